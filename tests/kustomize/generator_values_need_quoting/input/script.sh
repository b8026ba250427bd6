#!/bin/sh
echo "no trailing newline"