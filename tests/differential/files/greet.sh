#!/bin/sh
# Writes its second argument into the file named by the first.
printf '%s\n' "$2" > "$1"
echo "wrote $1"
