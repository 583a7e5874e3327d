#!/bin/sh
# Downloads the official CIFAR-100 binary version (161 MB), checks its md5 and extracts it to
# datasets/cifar-100-binary/ (train.bin, test.bin, coarse_label_names.txt,
# fine_label_names.txt). Safe to run again: it does nothing when the data is already there.
#
# Usage: datasets/download_cifar100.sh
exec "$(dirname "$0")/fetch_cifar.sh" \
  https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz \
  03b5dce01913d631647c71ecec9e9cb8 \
  cifar-100-binary \
  "train.bin test.bin coarse_label_names.txt fine_label_names.txt"
