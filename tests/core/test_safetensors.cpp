// safetensors: what we write reads back exactly, what PyTorch wrote reads as PyTorch had it,
// and broken files are refused with a message that names the file and the problem.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "convbook/error.hpp"
#include "convbook/io/safetensors.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

/// A fresh empty directory under the system temp dir, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("convbook_test_" + name + "_" + std::to_string(std::uintptr_t(this)))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A file made of the 8-byte length of `header`, `header` and `data`.
std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(&bytes[0], &n, 8);
  return bytes + header + data;
}

StoredTensor stored(const std::string& dtype, std::vector<std::size_t> shape,
                    std::vector<double> data) {
  StoredTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

}  // namespace

TEST_CASE("safetensors: every dtype, 0-d and empty tensors and metadata round-trip exactly",
          "[io][safetensors]") {
  TempDir dir("st_roundtrip");
  TensorMap tensors;
  tensors["a.f32"] = stored("F32", {2, 3}, {0.5, -1.25, 3, 1e-3, -7, 1e30});
  tensors["b.f64"] = stored("F64", {3}, {1.0 + 1e-15, -2.5, 1e-300});
  tensors["c.i64"] = stored("I64", {2, 1}, {-9007199254740992.0, 9007199254740992.0});
  tensors["d.i32"] = stored("I32", {1, 1, 1, 3}, {-2147483648.0, 2147483647.0, 0});
  tensors["e.scalar"] = stored("I64", {}, {391});
  tensors["f.empty"] = stored("F32", {0, 4}, {});
  const std::map<std::string, std::string> metadata = {{"epoch", "7"}, {"model", "small_cnn"}};

  write_safetensors(dir.file("rt.safetensors"), tensors, metadata);
  const SafetensorsFile back = read_safetensors(dir.file("rt.safetensors"));

  CHECK(back.metadata == metadata);
  REQUIRE(back.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    const StoredTensor& b = back.tensors.at(name);
    CHECK(b.dtype == t.dtype);
    CHECK(b.shape == t.shape);
    if (t.dtype == "F32") {
      // F32 stores float: the values come back as float(value), exactly.
      REQUIRE(b.data.size() == t.data.size());
      for (std::size_t i = 0; i < t.data.size(); ++i) CHECK(b.data[i] == double(float(t.data[i])));
    } else {
      CHECK(b.data == t.data);  // F64 and the integer dtypes are exact
    }
  }
  // the write was atomic: no temporary left behind
  CHECK_FALSE(fs::exists(dir.file("rt.safetensors.tmp")));
}

TEST_CASE("safetensors: the header is 8-byte aligned JSON, the data little-endian",
          "[io][safetensors]") {
  TempDir dir("st_layout");
  TensorMap tensors;
  tensors["x"] = stored("F32", {2}, {1.0, -2.0});
  write_safetensors(dir.file("x.safetensors"), tensors);
  const std::string bytes = read_bytes(dir.file("x.safetensors"));

  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  CHECK(bytes.size() == 8 + n + 8);  // two floats after the header
  CHECK(bytes.substr(8, n).find("\"data_offsets\":[0,8]") != std::string::npos);
  float v[2];
  std::memcpy(v, bytes.data() + 8 + n, 8);
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == -2.0f);
}

TEST_CASE(
    "safetensors: a file written by PyTorch (tests/tools/make_io_fixture.py) reads as written",
    "[io][safetensors]") {
  const SafetensorsFile f =
      read_safetensors(std::string(CONVBOOK_FIXTURES_DIR) + "/io_python_written.safetensors");
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.metadata.at("written_by") == "make_io_fixture.py");

  const StoredTensor& f32 = f.tensors.at("f32");  // arange(24) / 4 - 1, shape (2, 3, 4)
  CHECK(f32.dtype == "F32");
  CHECK(f32.shape == std::vector<std::size_t>{2, 3, 4});
  REQUIRE(f32.data.size() == 24);
  for (std::size_t i = 0; i < 24; ++i) CHECK(f32.data[i] == double(i) / 4 - 1);

  const StoredTensor& f64 = f.tensors.at("f64");
  CHECK(f64.dtype == "F64");
  CHECK(f64.data == std::vector<double>{1.0 + std::ldexp(1.0, -40), -0.5, 3.0});

  const StoredTensor& i64 = f.tensors.at("i64");
  CHECK(i64.dtype == "I64");
  CHECK(i64.shape == std::vector<std::size_t>{2, 2});
  CHECK(i64.data == std::vector<double>{-3, 0, 7, std::ldexp(1.0, 40)});

  const StoredTensor& i32 = f.tensors.at("i32");
  CHECK(i32.dtype == "I32");
  CHECK(i32.data == std::vector<double>{-2147483648.0, 2147483647.0, 5});

  const StoredTensor& counter = f.tensors.at("bn.num_batches_tracked");
  CHECK(counter.dtype == "I64");
  CHECK(counter.shape.empty());  // 0-d
  CHECK(counter.data == std::vector<double>{391});

  CHECK(f.tensors.at("empty").shape == std::vector<std::size_t>{0, 3});
  CHECK(f.tensors.at("empty").data.empty());

  // torch.manual_seed(0); torch.randn(2, 3, 3, 3), values printed by the script.
  const Tensor w = to_tensor(f.tensors.at("conv.weight"));
  CHECK(to_string(shape_of(w)) == "(2, 3, 3, 3)");
  CHECK(w(0, 0, 0, 0) == Approx(-1.12583983).epsilon(1e-7));
  CHECK(w(1, 2, 2, 2) == Approx(-0.193837121).epsilon(1e-7));
  double sum = 0;
  for (Scalar v : w) sum += v;
  // PyTorch summed in float: 54 terms of size ~1 carry up to ~54 * 6e-8 = 3e-6 of rounding.
  CHECK(sum == Approx(-1.27436185).margin(1e-5));
}

TEST_CASE("safetensors: to_tensor pads to 4-D, from_tensor keeps the PyTorch shape",
          "[io][safetensors]") {
  const Tensor bias = to_tensor(stored("F32", {3}, {1, 2, 3}));
  CHECK(to_string(shape_of(bias)) == "(3, 1, 1, 1)");
  CHECK(bias(2, 0, 0, 0) == 3);
  CHECK(to_string(shape_of(to_tensor(stored("I64", {}, {5})))) == "(1, 1, 1, 1)");
  CHECK_THROWS_WITH(to_tensor(stored("F32", {1, 1, 1, 1, 2}, {1, 2})),
                    Catch::Contains("at most 4 dimensions") && Catch::Contains("[1, 1, 1, 1, 2]"));

  Tensor w = zeros({4, 2, 1, 1});
  w(3, 1, 0, 0) = 9;
  const StoredTensor s = from_tensor(w, {4, 2});
  CHECK(s.dtype == "F32");
  CHECK(s.shape == std::vector<std::size_t>{4, 2});
  CHECK(s.data[7] == 9);
  CHECK(from_tensor(w).shape == std::vector<std::size_t>{4, 2, 1, 1});
  CHECK_THROWS_WITH(from_tensor(w, {3, 2}),
                    Catch::Contains("[3, 2] has 6 elements") && Catch::Contains("has 8"));
}

TEST_CASE("safetensors: broken files are refused with a message naming file and problem",
          "[io][safetensors]") {
  TempDir dir("st_bad");
  const std::string ok_header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string eight_bytes(8, '\0');
  auto refuse = [&](const std::string& name, const std::string& bytes) {
    write_bytes(dir.file(name), bytes);
    try {
      read_safetensors(dir.file(name));
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(name));  // the file is named
      return std::string(e.what());
    }
    FAIL("no error for " << name);
    return std::string();
  };

  // sanity: the well-formed version of these files reads
  write_bytes(dir.file("good.safetensors"), safetensors_bytes(ok_header, eight_bytes));
  CHECK(read_safetensors(dir.file("good.safetensors")).tensors.at("x").data.size() == 2);

  CHECK_THROWS_WITH(read_safetensors(dir.file("absent.safetensors")),
                    Catch::Contains("cannot open") && Catch::Contains("absent.safetensors"));
  CHECK_THAT(refuse("short.safetensors", "abc"), Catch::Contains("3 bytes, shorter than"));
  CHECK_THAT(
      refuse("header_len.safetensors", safetensors_bytes(ok_header, eight_bytes).substr(0, 30)),
      Catch::Contains("header length 54 goes beyond the file"));
  CHECK_THAT(refuse("truncated_data.safetensors",
                    safetensors_bytes(ok_header, eight_bytes).substr(0, 8 + 54 + 5)),
             Catch::Contains("lie beyond the data section of 5 bytes"));
  CHECK_THAT(refuse("bad_json.safetensors", safetensors_bytes("{\"x\": [1, 2", "")),
             Catch::Contains("not valid JSON"));
  CHECK_THAT(refuse("not_object.safetensors", safetensors_bytes("[1, 2, 3]", "")),
             Catch::Contains("must be a JSON object, found array"));
  CHECK_THAT(refuse("no_dtype.safetensors",
                    safetensors_bytes(R"({"x":{"shape":[2],"data_offsets":[0,8]}})", eight_bytes)),
             Catch::Contains("tensor \"x\": missing \"dtype\""));
  CHECK_THAT(refuse("no_offsets.safetensors",
                    safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2]}})", eight_bytes)),
             Catch::Contains("missing \"data_offsets\""));
  CHECK_THAT(refuse("bad_dtype.safetensors",
                    safetensors_bytes(R"({"x":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})",
                                      eight_bytes)),
             Catch::Contains("unknown dtype \"Q7\"") && Catch::Contains("F32, F64, I64, I32"));
  CHECK_THAT(refuse("size_mismatch.safetensors",
                    safetensors_bytes(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                      eight_bytes)),
             Catch::Contains("hold 8 bytes, expected 12 for F32 [3]"));
  CHECK_THAT(refuse("beyond.safetensors",
                    safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                      eight_bytes)),
             Catch::Contains("[4, 12] lie beyond the data section of 8 bytes"));
  CHECK_THAT(
      refuse("bad_metadata.safetensors", safetensors_bytes(R"({"__metadata__":{"epoch":3}})", "")),
      Catch::Contains("__metadata__[\"epoch\"] must be a string"));
}

TEST_CASE("safetensors: a failed write leaves the old file untouched and no temporary",
          "[io][safetensors]") {
  TempDir dir("st_atomic");
  const std::string path = dir.file("ckpt.safetensors");
  TensorMap good;
  good["x"] = stored("F32", {1}, {42});
  write_safetensors(path, good);

  TensorMap bad;
  bad["x"] = stored("F32", {2, 2}, {1, 2, 3});  // 3 values for 4 elements
  CHECK_THROWS_WITH(write_safetensors(path, bad), Catch::Contains("tensor \"x\"") &&
                                                      Catch::Contains("3 values") &&
                                                      Catch::Contains("needs 4"));
  bad["x"] = stored("BF16", {1}, {1});
  CHECK_THROWS_WITH(write_safetensors(path, bad), Catch::Contains("unknown dtype \"BF16\""));
  CHECK(read_safetensors(path).tensors.at("x").data == std::vector<double>{42});
  CHECK_FALSE(fs::exists(path + ".tmp"));

  // a directory that does not exist: the error names the file
  CHECK_THROWS_WITH(write_safetensors(dir.file("no/such/dir/x.safetensors"), good),
                    Catch::Contains("no/such/dir/x.safetensors"));
}
