// CIFAR readers: the bundled sample reads as SAMPLE.txt describes it, broken files are refused
// with the file named and the problem stated, and the data lookup follows the documented order.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convbook/data/cifar.hpp"
#include "convbook/error.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

const std::string kSampleDir = std::string(CONVBOOK_SOURCE_DIR) + "/datasets/cifar-10-sample";

/// A fresh empty directory under the system temp dir, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("convbook_test_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

/// `count` records of `record_bytes` bytes: label bytes `labels`, pixels = record index % 256.
void write_records(const std::string& path, std::size_t count, std::size_t record_bytes,
                   std::vector<std::uint8_t> labels) {
  std::ofstream out(path, std::ios::binary);
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<std::uint8_t> rec(record_bytes, std::uint8_t(i % 256));
    std::copy(labels.begin(), labels.end(), rec.begin());
    out.write(reinterpret_cast<const char*>(rec.data()), std::streamsize(rec.size()));
  }
}

/// Sets an environment variable for one scope and restores the old value after.
struct ScopedEnv {
  std::string name;
  bool had = false;
  std::string old;
  ScopedEnv(const std::string& n, const char* value) : name(n) {
    if (const char* v = std::getenv(n.c_str())) {
      had = true;
      old = v;
    }
    if (value) {
      setenv(n.c_str(), value, 1);
    } else {
      unsetenv(n.c_str());
    }
  }
  ~ScopedEnv() {
    if (had) {
      setenv(name.c_str(), old.c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }
};

}  // namespace

TEST_CASE("cifar: the bundled sample has 1000 train and 500 test images, labels as the original",
          "[data][cifar]") {
  const CifarData data = load_cifar10(kSampleDir);
  CHECK(data.is_sample);
  CHECK(data.train.size() == 1000);
  CHECK(data.test.size() == 500);
  CHECK(data.train.pixels.size() == 1000 * kCifarImageBytes);
  CHECK(data.train.num_classes == 10);
  // CIFAR-10's data_batch_1.bin starts with these labels (frog truck truck deer car car bird
  // horse ship cat).
  const std::vector<int> first(data.train.labels.begin(), data.train.labels.begin() + 10);
  CHECK(first == std::vector<int>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
  // the class counts SAMPLE.txt states
  std::vector<int> counts(10, 0);
  for (int l : data.train.labels) ++counts[std::size_t(l)];
  CHECK(counts == std::vector<int>{102, 112, 99, 92, 99, 85, 107, 102, 99, 103});
  CHECK_THAT(data.description, Catch::Contains("SAMPLE") &&
                                   Catch::Contains("1000 train / 500 test") &&
                                   Catch::Contains("download_cifar10.sh"));
}

TEST_CASE("cifar: bad files are refused, naming the file and the problem", "[data][cifar]") {
  TempDir dir("cifar_bad");

  SECTION("a well-formed file reads") {
    write_records(dir.file("ok.bin"), 3, 3073, {7});
    const CifarSet set = read_cifar10({dir.file("ok.bin")});
    CHECK(set.size() == 3);
    CHECK(set.labels == std::vector<int>{7, 7, 7});
    CHECK(set.image(2)[3071] == 2);  // pixel bytes follow the label byte
  }
  SECTION("missing") {
    CHECK_THROWS_WITH(read_cifar10({dir.file("absent.bin")}),
                      Catch::Contains("absent.bin") && Catch::Contains("no such file") &&
                          Catch::Contains("download_cifar10.sh"));
  }
  SECTION("empty") {
    std::ofstream(dir.file("empty.bin"));
    CHECK_THROWS_WITH(read_cifar10({dir.file("empty.bin")}),
                      Catch::Contains("empty.bin") && Catch::Contains("is empty"));
  }
  SECTION("truncated: the size is not a whole number of records") {
    write_records(dir.file("cut.bin"), 3, 3073, {1});
    fs::resize_file(dir.file("cut.bin"), 3 * 3073 - 1);
    CHECK_THROWS_WITH(read_cifar10({dir.file("cut.bin")}),
                      Catch::Contains("cut.bin") &&
                          Catch::Contains("truncated: 9218 bytes is not a multiple of 3073"));
  }
  SECTION("oversized: more records than a CIFAR-10 batch holds") {
    write_records(dir.file("big.bin"), 10001, 3073, {1});
    CHECK_THROWS_WITH(read_cifar10({dir.file("big.bin")}),
                      Catch::Contains("big.bin") && Catch::Contains("oversized: 10001 records") &&
                          Catch::Contains("at most 10000"));
  }
  SECTION("garbled: a label out of range names the record and the label") {
    write_records(dir.file("garbled.bin"), 5, 3073, {3});
    {
      std::fstream f(dir.file("garbled.bin"), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(4 * 3073);
      f.put(char(12));
    }
    CHECK_THROWS_WITH(read_cifar10({dir.file("garbled.bin")}),
                      Catch::Contains("garbled.bin") &&
                          Catch::Contains("garbled: record 4 has label 12, expected 0..9"));
  }
  SECTION("a CIFAR-10 file is not a CIFAR-100 file") {
    write_records(dir.file("ten.bin"), 2, 3073, {1});
    CHECK_THROWS_WITH(read_cifar100({dir.file("ten.bin")}),
                      Catch::Contains("not a multiple of 3074"));
  }
}

TEST_CASE("cifar: CIFAR-100 records carry a coarse and a fine label", "[data][cifar]") {
  TempDir dir("cifar100");
  write_records(dir.file("train.bin"), 4, 3074, {19, 99});
  const CifarSet fine = read_cifar100({dir.file("train.bin")});
  CHECK(fine.num_classes == 100);
  CHECK(fine.labels == std::vector<int>{99, 99, 99, 99});
  CHECK(fine.image(3)[0] == 3);  // pixels start after the two label bytes
  const CifarSet coarse = read_cifar100({dir.file("train.bin")}, false);
  CHECK(coarse.num_classes == 20);
  CHECK(coarse.labels == std::vector<int>{19, 19, 19, 19});

  write_records(dir.file("bad.bin"), 2, 3074, {20, 5});
  CHECK_THROWS_WITH(read_cifar100({dir.file("bad.bin")}, false),
                    Catch::Contains("garbled: record 0 has label 20, expected 0..19"));
}

TEST_CASE("cifar: a data folder must be complete, and the error says how to complete it",
          "[data][cifar]") {
  TempDir dir("cifar_dir");
  for (int i = 1; i <= 5; ++i) {
    if (i != 3) write_records(dir.file("data_batch_" + std::to_string(i) + ".bin"), 2, 3073, {0});
  }
  write_records(dir.file("test_batch.bin"), 2, 3073, {0});
  CHECK_THROWS_WITH(load_cifar10(dir.path.string()), Catch::Contains("lacks data_batch_3.bin") &&
                                                         Catch::Contains("download_cifar10.sh"));

  write_records(dir.file("data_batch_3.bin"), 2, 3073, {0});
  const CifarData full = load_cifar10(dir.path.string());
  CHECK_FALSE(full.is_sample);
  CHECK(full.train.size() == 10);
  CHECK(full.test.size() == 2);

  CHECK_THROWS_WITH(load_cifar10(dir.file("nowhere")), Catch::Contains("nowhere") &&
                                                           Catch::Contains("does not exist") &&
                                                           Catch::Contains("--data"));
}

TEST_CASE("cifar: lookup order is --data, then $CONVBOOK_DATA, then datasets/", "[data][cifar]") {
  TempDir dir("cifar_lookup");
  {
    ScopedEnv env("CONVBOOK_DATA", dir.path.string().c_str());
    CHECK(find_cifar10_dir("/from/flag") == "/from/flag");  // the flag wins
    CHECK(find_cifar10_dir("") == dir.path.string());       // then the environment
    // load_cifar10 reads what the environment names, and says where the path came from
    CHECK_THROWS_WITH(load_cifar10(""), Catch::Contains(dir.path.string()) &&
                                            Catch::Contains("lacks data_batch_1.bin"));
  }
  {
    ScopedEnv env("CONVBOOK_DATA", "");  // set but empty counts as not set
    const std::string found = find_cifar10_dir("");
    // without flag and environment: downloaded data if present (on a developer's machine), else
    // the bundled sample
    const bool full = found.find("cifar-10-batches-bin") != std::string::npos;
    const bool sample = found.find("cifar-10-sample") != std::string::npos;
    CHECK((full || sample));
    if (sample) CHECK(load_cifar10("").is_sample);
  }
}
