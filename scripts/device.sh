#!/usr/bin/env bash
# Which build of the backend to install. Prints two lines: "gpu" or "cpu", then why.
#   INFANT_POSE_DEVICE=auto (default): gpu when `nvidia-smi -L` succeeds and lists a GPU, else cpu
#   INFANT_POSE_DEVICE=gpu|cpu:        that, whatever the machine has
set -euo pipefail
choice="${INFANT_POSE_DEVICE:-auto}"
case "$choice" in
  cpu | gpu)
    printf '%s\n%s\n' "$choice" "Device: $choice (INFANT_POSE_DEVICE=$choice)"
    ;;
  auto)
    if gpus="$(nvidia-smi -L 2>/dev/null | grep '^GPU ')"; then
      printf 'gpu\nDevice: gpu, nvidia-smi lists %s GPU(s), first %s (INFANT_POSE_DEVICE=cpu to override)\n' \
        "$(wc -l <<<"$gpus" | tr -d ' ')" "${gpus%%$'\n'*}"
    else
      printf 'cpu\nDevice: cpu, nvidia-smi -L finds no NVIDIA GPU (INFANT_POSE_DEVICE=gpu to override)\n'
    fi
    ;;
  *)
    echo "error: INFANT_POSE_DEVICE=$choice: expected auto, cpu or gpu" >&2
    exit 2
    ;;
esac
