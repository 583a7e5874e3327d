#!/bin/sh
# The shared body of download_cifar10.sh and download_cifar100.sh:
#   fetch_cifar.sh URL MD5 FOLDER "FILES..."
# downloads URL into datasets/ (curl or wget), verifies MD5, extracts the tar.gz (which holds
# FOLDER/) and checks that FOLDER has every one of FILES. Idempotent: when FOLDER is complete
# it does nothing; an archive with the right checksum is not downloaded again. Partial
# downloads go to a .part file and never take the archive's name.
set -eu

if [ $# -ne 4 ]; then
  echo "usage: $0 URL MD5 FOLDER \"FILES...\"" >&2
  exit 2
fi
url=$1
md5=$2
folder=$3
files=$4

here=$(cd "$(dirname "$0")" && pwd)
archive="$here/$(basename "$url")"
target="$here/$folder"

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

complete() {
  for f in $files; do
    [ -s "$target/$f" ] || return 1
  done
  return 0
}

checksum() {
  if command -v md5sum > /dev/null 2>&1; then
    md5sum "$1" | cut -d' ' -f1
  elif command -v md5 > /dev/null 2>&1; then
    md5 -q "$1"
  else
    die "neither md5sum nor md5 found: cannot verify $1"
  fi
}

if complete; then
  echo "$folder: already complete in $target"
  exit 0
fi

if [ -f "$archive" ] && [ "$(checksum "$archive")" = "$md5" ]; then
  echo "reusing $archive (md5 ok)"
else
  rm -f "$archive" "$archive.part"
  echo "downloading $url"
  if command -v curl > /dev/null 2>&1; then
    curl -fL --retry 3 -o "$archive.part" "$url" || die "download failed: $url (network? proxy?)"
  elif command -v wget > /dev/null 2>&1; then
    wget -O "$archive.part" "$url" || die "download failed: $url (network? proxy?)"
  else
    die "neither curl nor wget found: install one (apt-get install curl) or download $url into $here by hand"
  fi
  got=$(checksum "$archive.part")
  if [ "$got" != "$md5" ]; then
    rm -f "$archive.part"
    die "md5 mismatch for $(basename "$url"): got $got, expected $md5 (corrupt or changed download; try again)"
  fi
  mv "$archive.part" "$archive"
fi

echo "extracting $(basename "$archive") into $here"
# Extract into a scratch folder first so an interrupted extraction never leaves a folder that
# looks complete under the final name.
scratch="$here/.extract.$$"
rm -rf "$scratch"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT
tar -xzf "$archive" -C "$scratch" || die "cannot extract $archive"
[ -d "$scratch/$folder" ] || die "$archive does not contain $folder/"
rm -rf "$target"
mv "$scratch/$folder" "$target"
complete || die "$target is missing some of: $files"
echo "$folder: ready in $target"
echo "(you may delete $archive)"
