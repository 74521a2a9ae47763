"""Movement features of infant keypoint trajectories (speed, range, frequency content, left-right
coordination, variability) and how pose error propagates into them; docs/MOVEMENT.md."""
