// Checkpoints: a module's parameters and buffers under their PyTorch names and shapes, saved
// and loaded back exactly; loading is strict and says what does not match.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>

#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/random.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

/// Stands in for a BatchNorm2d: a weight and the buffers with BatchNorm's names.
class FakeNorm : public Module {
 public:
  Parameter weight = Parameter::make({2});
  Parameter running_mean = Parameter::make_buffer({2});
  Parameter num_batches_tracked = Parameter::make_buffer({1});
  FakeNorm() {
    register_parameter("weight", &weight);
    register_parameter("running_mean", &running_mean);
    register_parameter("num_batches_tracked", &num_batches_tracked);
  }
  Tensor forward(const Tensor& x) override { return x; }
  Tensor backward(const Tensor& dy) override { return dy; }
  std::string repr() const override { return "FakeNorm()"; }
};

/// A tiny model: a {3, 2} "linear" weight, a {3} bias and a child "bn".
class TinyNet : public Module {
 public:
  Parameter weight = Parameter::make({3, 2});
  Parameter bias = Parameter::make({3});
  FakeNorm bn;
  explicit TinyNet(std::size_t bias_size = 3) : bias(Parameter::make({bias_size})) {
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
    register_module("bn", &bn);
  }
  Tensor forward(const Tensor& x) override { return x; }
  Tensor backward(const Tensor& dy) override { return dy; }
  std::string repr() const override { return "TinyNet()"; }

  /// Fills every parameter and buffer with values drawn from `seed`.
  void randomize(std::uint64_t seed) {
    Rng rng(seed);
    visit_parameters([&](const std::string&, Parameter& p) {
      for (auto& v : p.value) v = Scalar(rng.normal());
    });
    bn.num_batches_tracked.value(0, 0, 0, 0) = Scalar(rng.below(1000));
  }
};

/// True when `loaded` holds `original` as stored in F32 (exact in the float build).
bool equals_as_float(const Tensor& loaded, const Tensor& original) {
  if (loaded.shape() != original.shape()) return false;
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    if (loaded.data()[i] != Scalar(float(original.data()[i]))) return false;
  }
  return true;
}

/// True when both tensors have the same shape and values.
bool equals(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

std::string temp_file(const std::string& name) {
  return (fs::temp_directory_path() / ("convbook_test_" + name)).string();
}

}  // namespace

TEST_CASE("checkpoint: state_dict has PyTorch names, shapes and BatchNorm's 0-d int64 counter",
          "[io][checkpoint]") {
  TinyNet net;
  net.randomize(1);
  const TensorMap sd = state_dict(net);

  REQUIRE(sd.size() == 5);
  CHECK(sd.at("weight").shape == std::vector<std::size_t>{3, 2});
  CHECK(sd.at("weight").dtype == "F32");
  CHECK(sd.at("weight").data[5] == double(net.weight.value(2, 1, 0, 0)));
  CHECK(sd.at("bias").shape == std::vector<std::size_t>{3});
  CHECK(sd.at("bn.weight").shape == std::vector<std::size_t>{2});
  CHECK(sd.at("bn.running_mean").shape == std::vector<std::size_t>{2});
  const StoredTensor& counter = sd.at("bn.num_batches_tracked");
  CHECK(counter.dtype == "I64");  // as torch.nn.BatchNorm2d saves it
  CHECK(counter.shape.empty());
  CHECK(counter.data == std::vector<double>{double(net.bn.num_batches_tracked.value(0, 0, 0, 0))});
}

TEST_CASE("checkpoint: save then load into a fresh model gives equal parameters and metadata",
          "[io][checkpoint]") {
  const std::string path = temp_file("ckpt_roundtrip.safetensors");
  TinyNet a;
  a.randomize(7);
  save_checkpoint(path, a, {{"epoch", "3"}, {"model", "tiny"}});

  TinyNet b;
  b.randomize(8);  // different values, to be overwritten
  const auto metadata = load_checkpoint(path, b);
  fs::remove(path);

  CHECK(metadata.at("epoch") == "3");
  CHECK(metadata.at("model") == "tiny");
  // F32 on disk: in the float build the copy is exact; in a double build, exact to float.
  CHECK(equals_as_float(b.weight.value, a.weight.value));
  CHECK(equals_as_float(b.bias.value, a.bias.value));
  CHECK(equals_as_float(b.bn.weight.value, a.bn.weight.value));
  CHECK(equals_as_float(b.bn.running_mean.value, a.bn.running_mean.value));
  CHECK(b.bn.num_batches_tracked.value(0, 0, 0, 0) == a.bn.num_batches_tracked.value(0, 0, 0, 0));
}

TEST_CASE("checkpoint: a {1}-shaped counter (older files) loads too", "[io][checkpoint]") {
  TinyNet a;
  a.randomize(2);
  TensorMap sd = state_dict(a);
  sd["bn.num_batches_tracked"].shape = {1};
  TinyNet b;
  load_state_dict(b, sd);
  CHECK(b.bn.num_batches_tracked.value(0, 0, 0, 0) == a.bn.num_batches_tracked.value(0, 0, 0, 0));
}

TEST_CASE("checkpoint: loading is strict and lists every mismatch, changing nothing",
          "[io][checkpoint]") {
  TinyNet a;
  a.randomize(3);
  TinyNet b;
  b.randomize(4);
  const Tensor before = b.weight.value;

  SECTION("missing key") {
    TensorMap sd = state_dict(a);
    sd.erase("bn.running_mean");
    CHECK_THROWS_WITH(load_state_dict(b, sd), Catch::Contains("missing keys: bn.running_mean"));
  }
  SECTION("unexpected key") {
    TensorMap sd = state_dict(a);
    sd["fc.weight"] = sd.at("weight");
    CHECK_THROWS_WITH(load_state_dict(b, sd), Catch::Contains("unexpected keys: fc.weight"));
  }
  SECTION("shape mismatch names the tensor, the shape found and the shape expected") {
    TinyNet wide(4);  // bias {4}
    wide.randomize(5);
    CHECK_THROWS_WITH(load_state_dict(b, state_dict(wide)),
                      Catch::Contains("shape mismatches: bias (found [4], expected [3])"));
  }
  SECTION("all three at once") {
    TensorMap sd = state_dict(a);
    sd.erase("bias");
    sd["extra"] = sd.at("weight");
    sd["weight"].shape = {2, 3};
    CHECK_THROWS_WITH(load_state_dict(b, sd),
                      Catch::Contains("missing keys: bias") &&
                          Catch::Contains("unexpected keys: extra") &&
                          Catch::Contains("weight (found [2, 3], expected [3, 2])"));
  }
  CHECK(equals(b.weight.value, before));  // a failed load leaves the model as it was
}

TEST_CASE("checkpoint: load_checkpoint names the file in its errors", "[io][checkpoint]") {
  const std::string path = temp_file("ckpt_wrong_model.safetensors");
  TinyNet wide(4);
  save_checkpoint(path, wide);
  TinyNet net;
  CHECK_THROWS_WITH(load_checkpoint(path, net),
                    Catch::Contains("ckpt_wrong_model.safetensors") && Catch::Contains("bias"));
  fs::remove(path);
  CHECK_THROWS_WITH(load_checkpoint(path, net), Catch::Contains("ckpt_wrong_model.safetensors"));
}
