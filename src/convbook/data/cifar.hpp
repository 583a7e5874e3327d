#pragma once
/// @file cifar.hpp
/// @brief CIFAR-10 and CIFAR-100 binary readers, and where convbook looks for the data.
///
/// The binary versions (https://www.cs.toronto.edu/~kriz/cifar.html) are flat arrays of
/// fixed-size records:
/// - CIFAR-10: 1 label byte (0..9) + 3072 pixel bytes; data_batch_1..5.bin hold 10000 records
///   each, test_batch.bin 10000.
/// - CIFAR-100: 1 coarse label byte (0..19) + 1 fine label byte (0..99) + 3072 pixel bytes;
///   train.bin holds 50000 records, test.bin 10000.
/// The 3072 pixel bytes are the 1024 red, then green, then blue values of a 32x32 image, rows
/// top to bottom: exactly one (3, 32, 32) slice of an NCHW tensor.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convbook {

/// @brief Channels of a CIFAR image.
constexpr std::size_t kCifarChannels = 3;
/// @brief Height and width of a CIFAR image.
constexpr std::size_t kCifarSize = 32;
/// @brief Bytes of one CIFAR image: 3 x 32 x 32.
constexpr std::size_t kCifarImageBytes = kCifarChannels * kCifarSize * kCifarSize;

/// @brief Images and labels of a CIFAR split, in file order.
struct CifarSet {
  std::vector<std::uint8_t> pixels;  ///< N x 3 x 32 x 32 bytes, NCHW
  std::vector<int> labels;           ///< N labels in [0, num_classes)
  int num_classes = 10;              ///< 10 (CIFAR-10), 100 (fine) or 20 (coarse)
  /// @brief Number of images N.
  std::size_t size() const { return labels.size(); }
  /// @brief The 3072 bytes of image `i`.
  const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * kCifarImageBytes; }
};

/// @brief Reads and concatenates CIFAR-10 binary batches.
/// @throws Error naming the file when it is missing, empty, truncated (size not a multiple of
///   3073), oversized (more than 10000 records) or garbled (a label outside 0..9; the message
///   names the record and the label).
CifarSet read_cifar10(const std::vector<std::string>& files);

/// @brief Reads and concatenates CIFAR-100 binary files (train.bin, test.bin).
/// @param files the files
/// @param fine_labels true: the 100 fine classes; false: the 20 coarse superclasses
/// @throws Error as read_cifar10, with records of 3074 bytes and at most 50000 per file.
CifarSet read_cifar100(const std::vector<std::string>& files, bool fine_labels = true);

/// @brief A train and a test split and where they came from.
struct CifarData {
  CifarSet train;           ///< the training images
  CifarSet test;            ///< the test images
  std::string dir;          ///< the directory read
  bool is_sample = false;   ///< true for the small sample bundled with convbook
  std::string description;  ///< one line for the user: what was loaded, from where
};

/// @brief Where to read CIFAR-10 from, in this order:
/// 1. `data_flag` when not empty (the `--data` argument);
/// 2. the environment variable CONVBOOK_DATA when set and not empty;
/// 3. `./datasets/cifar-10-batches-bin` (what datasets/download_cifar10.sh creates), then the
///    same folder in the source tree;
/// 4. the bundled sample: `./datasets/cifar-10-sample`, else the one in the source tree.
/// @return the directory (not checked for content: load_cifar10 does that)
/// @throws Error listing the places tried when none of 3 and 4 exists.
std::string find_cifar10_dir(const std::string& data_flag);

/// @brief Loads CIFAR-10 from find_cifar10_dir(data_flag).
///
/// A directory with a SAMPLE.txt file is the bundled sample and needs data_batch_1.bin and
/// test_batch.bin; any other needs all of data_batch_1..5.bin and test_batch.bin.
/// @throws Error naming the directory and the missing file, with how to get the data.
CifarData load_cifar10(const std::string& data_flag);

/// @brief Loads CIFAR-100 from a directory holding train.bin and test.bin
/// (what datasets/download_cifar100.sh creates: datasets/cifar-100-binary).
/// @throws Error naming the missing file, with how to get the data.
CifarData load_cifar100(const std::string& dir, bool fine_labels = true);

}  // namespace convbook
