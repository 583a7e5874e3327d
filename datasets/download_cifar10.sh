#!/bin/sh
# Downloads the official CIFAR-10 binary version (170 MB), checks its md5 and extracts it to
# datasets/cifar-10-batches-bin/ (data_batch_1..5.bin, test_batch.bin, batches.meta.txt),
# where convbook finds it without any flag. Safe to run again: it does nothing when the data
# is already there, and reuses a complete archive already downloaded.
#
# Usage: datasets/download_cifar10.sh
exec "$(dirname "$0")/fetch_cifar.sh" \
  https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz \
  c32a1d4ab5d03f1284b67883e8d87530 \
  cifar-10-batches-bin \
  "data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin batches.meta.txt"
