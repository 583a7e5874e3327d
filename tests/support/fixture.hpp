#pragma once
// A PyTorch fixture (tests/fixtures/NAME.safetensors, written by tests/tools/make_*.py): its
// tensors by key, and the integers its metadata stores as text.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "convbook/io/safetensors.hpp"

namespace convbook::test {

struct Fixture {
  SafetensorsFile file;
  explicit Fixture(const std::string& name)
      : file(read_safetensors(std::string(CONVBOOK_FIXTURES_DIR) + "/" + name)) {}
  /// The tensor stored under `key`; the test fails, naming the key, when there is none.
  Tensor operator[](const std::string& key) const {
    const auto it = file.tensors.find(key);
    if (it == file.tensors.end()) FAIL("fixture has no tensor " << key);
    return to_tensor(it->second);
  }
  /// The first value of the tensor under `key` (a scalar saved as a one-element tensor).
  double scalar(const std::string& key) const { return file.tensors.at(key).data.at(0); }
  /// The metadata entry `key` as an integer.
  std::size_t meta(const std::string& key) const { return std::stoul(file.metadata.at(key)); }
  /// The metadata entry `key`, "a,b,c", as a list of integers.
  std::vector<std::size_t> list(const std::string& key) const {
    std::vector<std::size_t> v;
    std::stringstream ss(file.metadata.at(key));
    std::string item;
    while (std::getline(ss, item, ',')) v.push_back(std::stoul(item));
    return v;
  }
};

}  // namespace convbook::test
