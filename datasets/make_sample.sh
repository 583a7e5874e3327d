#!/bin/sh
# Regenerates the bundled CIFAR-10 sample (datasets/cifar-10-sample) from an official
# CIFAR-10 data_batch_1.bin:
#   data_batch_1.bin = records    0..999  of data_batch_1.bin (1000 training images)
#   test_batch.bin   = records 1000..1499 of data_batch_1.bin (500 held-out images)
# A record is 1 label byte + 3072 pixel bytes = 3073 bytes. The test half comes from the
# training file, not from test_batch.bin, so the sample stays a few MB; the two halves share
# no image.
#
# Usage: datasets/make_sample.sh [path/to/data_batch_1.bin] [output dir]
#   defaults: datasets/cifar-10-batches-bin/data_batch_1.bin, datasets/cifar-10-sample
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/cifar-10-batches-bin/data_batch_1.bin}
out=${2:-$here/cifar-10-sample}
record=3073

if [ ! -f "$src" ]; then
  echo "make_sample.sh: no file '$src' (get it with datasets/download_cifar10.sh)" >&2
  exit 1
fi
size=$(wc -c < "$src")
if [ "$size" -ne $((10000 * record)) ]; then
  echo "make_sample.sh: '$src' is $size bytes, expected $((10000 * record)) (10000 records of $record)" >&2
  exit 1
fi

mkdir -p "$out"
# bs=3073: skip/count are in records. Write to .tmp then rename, so no half file is left.
dd if="$src" of="$out/data_batch_1.bin.tmp" bs=$record count=1000 status=none
dd if="$src" of="$out/test_batch.bin.tmp" bs=$record skip=1000 count=500 status=none
mv "$out/data_batch_1.bin.tmp" "$out/data_batch_1.bin"
mv "$out/test_batch.bin.tmp" "$out/test_batch.bin"
printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n' > "$out/batches.meta.txt"
if [ "$out" != "$here/cifar-10-sample" ] && [ -f "$here/cifar-10-sample/SAMPLE.txt" ]; then
  cp "$here/cifar-10-sample/SAMPLE.txt" "$out/SAMPLE.txt"
fi

# From the official data_batch_1.bin (md5 of the archive: c32a1d4ab5d03f1284b67883e8d87530)
# the sample is bit-exact; these are its checksums.
if command -v md5sum > /dev/null 2>&1; then
  (cd "$out" && md5sum -c --quiet <<SUMS
6672568c6f9da0ae2d58cd800deb0f83  data_batch_1.bin
29143d4d95da5ecb7225bd979fcaaaa5  test_batch.bin
SUMS
  ) || { echo "make_sample.sh: checksums differ: '$src' is not the official data_batch_1.bin" >&2; exit 1; }
fi
echo "wrote $out: 1000 train + 500 test records"
