#include "convbook/data/cifar.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "convbook/error.hpp"

namespace convbook {

namespace fs = std::filesystem;

namespace {

/// The layout of one binary CIFAR variant.
struct RecordFormat {
  const char* name;         ///< "CIFAR-10" or "CIFAR-100", for messages
  std::size_t label_bytes;  ///< 1 (CIFAR-10) or 2 (coarse, fine)
  std::size_t label_index;  ///< which label byte is the label we keep
  int num_classes;          ///< labels must lie in [0, num_classes)
  std::size_t max_records;  ///< more than this in one file means a wrong file
  std::size_t record_bytes() const { return label_bytes + kCifarImageBytes; }
};

/// Reads the records of one file and appends them to `set`, checking every way a file can be
/// wrong before trusting it.
void append_file(const std::string& path, const RecordFormat& format, CifarSet& set) {
  const std::string what = std::string(format.name) + " file '" + path + "'";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error(what + ": no such file" +
                (std::string(format.name) == "CIFAR-10"
                     ? " (get the data with datasets/download_cifar10.sh)"
                     : " (get the data with datasets/download_cifar100.sh)"));
  }
  const std::size_t bytes = fs::file_size(path, ec);
  if (ec) throw Error(what + ": cannot read its size: " + ec.message());
  const std::size_t record = format.record_bytes();
  if (bytes == 0) throw Error(what + ": file is empty");
  if (bytes % record != 0) {
    throw Error(what + ": truncated: " + std::to_string(bytes) + " bytes is not a multiple of " +
                std::to_string(record) + " (the size of one record)");
  }
  const std::size_t count = bytes / record;
  if (count > format.max_records) {
    throw Error(what + ": oversized: " + std::to_string(count) + " records, a file holds at most " +
                std::to_string(format.max_records));
  }

  std::vector<std::uint8_t> raw(bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(bytes))) {
    throw Error(what + ": cannot read " + std::to_string(bytes) + " bytes");
  }

  const std::size_t first = set.size();
  set.labels.resize(first + count);
  set.pixels.resize((first + count) * kCifarImageBytes);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* rec = raw.data() + i * record;
    const int label = rec[format.label_index];
    if (label >= format.num_classes) {
      throw Error(what + ": garbled: record " + std::to_string(i) + " has label " +
                  std::to_string(label) + ", expected 0.." +
                  std::to_string(format.num_classes - 1));
    }
    set.labels[first + i] = label;
    std::copy(rec + format.label_bytes, rec + record,
              set.pixels.begin() + std::ptrdiff_t((first + i) * kCifarImageBytes));
  }
}

CifarSet read_files(const std::vector<std::string>& files, const RecordFormat& format) {
  if (files.empty()) throw Error(std::string(format.name) + ": no files given");
  CifarSet set;
  set.num_classes = format.num_classes;
  for (const std::string& f : files) append_file(f, format, set);
  return set;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

/// The repository root of this build (CMake defines CONVBOOK_SOURCE_DIR), where the bundled
/// sample lives when the program runs from another folder.
fs::path source_dir() { return fs::path(CONVBOOK_SOURCE_DIR); }

}  // namespace

CifarSet read_cifar10(const std::vector<std::string>& files) {
  return read_files(files, RecordFormat{"CIFAR-10", 1, 0, 10, 10000});
}

CifarSet read_cifar100(const std::vector<std::string>& files, bool fine_labels) {
  return read_files(files, fine_labels ? RecordFormat{"CIFAR-100", 2, 1, 100, 50000}
                                       : RecordFormat{"CIFAR-100", 2, 0, 20, 50000});
}

std::string find_cifar10_dir(const std::string& data_flag) {
  if (!data_flag.empty()) return data_flag;
  if (const char* env = std::getenv("CONVBOOK_DATA"); env != nullptr && *env != '\0') return env;

  const fs::path candidates[] = {
      fs::path("datasets") / "cifar-10-batches-bin",
      source_dir() / "datasets" / "cifar-10-batches-bin",
      fs::path("datasets") / "cifar-10-sample",
      source_dir() / "datasets" / "cifar-10-sample",
  };
  std::string tried;
  for (const fs::path& dir : candidates) {
    if (is_dir(dir)) return dir.string();
    tried += (tried.empty() ? "" : ", ") + dir.string();
  }
  throw Error("no CIFAR-10 data found: no --data given, CONVBOOK_DATA not set, and none of " +
              tried + " exists (get the data with datasets/download_cifar10.sh)");
}

CifarData load_cifar10(const std::string& data_flag) {
  CifarData data;
  data.dir = find_cifar10_dir(data_flag);
  const fs::path dir(data.dir);
  if (!is_dir(dir)) {
    throw Error("CIFAR-10 directory '" + data.dir + "' does not exist (from " +
                (data_flag.empty() ? "$CONVBOOK_DATA" : "--data") +
                "; get the data with datasets/download_cifar10.sh)");
  }
  data.is_sample = fs::exists(dir / "SAMPLE.txt");

  std::vector<std::string> train_files;
  if (data.is_sample) {
    train_files = {(dir / "data_batch_1.bin").string()};
  } else {
    for (int i = 1; i <= 5; ++i) {
      train_files.push_back((dir / ("data_batch_" + std::to_string(i) + ".bin")).string());
    }
  }
  const std::string test_file = (dir / "test_batch.bin").string();
  // Name the first missing file before reading anything: a half-downloaded folder is common.
  for (const std::string& f : train_files) {
    if (!fs::exists(f)) {
      throw Error("CIFAR-10 directory '" + data.dir + "' lacks " + fs::path(f).filename().string() +
                  " (expected data_batch_1..5.bin and test_batch.bin; get them with "
                  "datasets/download_cifar10.sh)");
    }
  }
  if (!fs::exists(test_file)) {
    throw Error("CIFAR-10 directory '" + data.dir +
                "' lacks test_batch.bin (get the data with datasets/download_cifar10.sh)");
  }

  data.train = read_cifar10(train_files);
  data.test = read_cifar10({test_file});
  data.description = std::string(data.is_sample ? "CIFAR-10 SAMPLE" : "CIFAR-10") + " from " +
                     data.dir + ": " + std::to_string(data.train.size()) + " train / " +
                     std::to_string(data.test.size()) + " test images";
  if (data.is_sample) {
    data.description +=
        " (a small sample of the real data bundled with convbook; for the full 50000/10000 run "
        "datasets/download_cifar10.sh)";
  }
  return data;
}

CifarData load_cifar100(const std::string& dir_name, bool fine_labels) {
  CifarData data;
  data.dir = dir_name;
  const fs::path dir(dir_name);
  for (const char* name : {"train.bin", "test.bin"}) {
    if (!fs::exists(dir / name)) {
      throw Error("CIFAR-100 directory '" + dir_name + "' lacks " + name +
                  " (get the data with datasets/download_cifar100.sh)");
    }
  }
  data.train = read_cifar100({(dir / "train.bin").string()}, fine_labels);
  data.test = read_cifar100({(dir / "test.bin").string()}, fine_labels);
  data.description = "CIFAR-100 (" + std::string(fine_labels ? "100 fine" : "20 coarse") +
                     " classes) from " + dir_name + ": " + std::to_string(data.train.size()) +
                     " train / " + std::to_string(data.test.size()) + " test images";
  return data;
}

}  // namespace convbook
