#!/bin/bash
# A stand-in for DIRAC's pilot wrapper: shows what a pilot VM knows about itself, works a little, ends.
echo "pilot starting on $(hostname) at $(date -u +%H:%M:%S)"
echo "PILOT_UUID=${PILOT_UUID:-unset}"
echo "DIRAC_PILOT_STAMP=${DIRAC_PILOT_STAMP:-unset}"
for step in 1 2 3; do
  echo "payload step ${step}/3"
  sleep 1
done
echo "pilot done"
