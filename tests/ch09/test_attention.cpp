// Chapter 09: the fused gate kernels against the naive ones, the blocks' shapes and parameter
// names, and the errors bad configurations raise.
//
// Naive vs fused: the same sums in a different order, in float, so we compare with check.hpp's
// scaled_error (max |fused - naive| / max |naive|) below 1e-5; a fused kernel that drops a term
// (the squeeze's dz / L, the max route) misses by 1e-2 or more.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "chapters/00_framework/small_cnn.hpp"
#include "chapters/09_attention/attention_cnn.hpp"
#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

struct Pass {
  Tensor y, dx;
  std::vector<Tensor> grads;
};

Pass run(Module& m, const Tensor& x, const Tensor& dy) {
  Pass p;
  p.y = m.forward(x);
  m.zero_grad();
  p.dx = m.backward(dy);
  m.visit_parameters([&](const std::string&, Parameter& q) {
    if (!q.is_buffer) p.grads.push_back(q.grad);
  });
  return p;
}

// Builds the block twice with the same seed, one naive and one fused, and compares forward,
// dx and every parameter gradient.
template <typename Block, typename... Args>
void check_naive_equals_fused(const Shape& input, Args... args) {
  const Tensor x = test::random_tensor(input, 11);
  const Tensor dy = test::random_tensor(input, 12);
  manual_seed(5);
  Block naive(args...);
  naive.set_naive(true);
  manual_seed(5);
  Block fused(args...);
  const Pass a = run(naive, x, dy), b = run(fused, x, dy);
  INFO(fused.repr() << " on " << to_string(input));
  CHECK(test::scaled_error(b.y, a.y) < 1e-5);
  CHECK(test::scaled_error(b.dx, a.dx) < 1e-5);
  REQUIRE(a.grads.size() == b.grads.size());
  for (std::size_t i = 0; i < a.grads.size(); ++i)
    CHECK(test::scaled_error(b.grads[i], a.grads[i]) < 1e-5);
}

template <typename F>
void check_error(F make, const std::string& expected_words) {
  try {
    make();
    FAIL("no Error thrown; expected one mentioning '" << expected_words << "'");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(expected_words) != std::string::npos);
  }
}

std::vector<std::string> parameter_names(Module& m) {
  std::vector<std::string> names;
  m.visit_parameters([&](const std::string& n, Parameter&) { names.push_back(n); });
  return names;
}

}  // namespace

TEST_CASE("Fused SE and CBAM kernels equal the naive ones", "[se][cbam][fused]") {
  check_naive_equals_fused<SqueezeExcitation>({3, 16, 7, 5}, 16, 4);
  check_naive_equals_fused<SqueezeExcitation>({2, 5, 1, 1}, 5, 2);  // 1x1 planes
  check_naive_equals_fused<ChannelGate>({2, 12, 9, 3}, 12, 3);
  check_naive_equals_fused<SpatialGate>({2, 7, 11, 6}, 7);
  check_naive_equals_fused<SpatialGate>({1, 1, 5, 5}, 3);  // one channel: max = mean
  check_naive_equals_fused<CBAM>({4, 24, 8, 8}, 24, 4, 7);
}

TEST_CASE("The blocks keep the shape and the gates stay in (0, 1)", "[se][cbam]") {
  manual_seed(1);
  const Tensor x = test::random_tensor({2, 16, 6, 5}, 3);
  SqueezeExcitation se(16, 4);
  CHECK(shape_of(se.forward(x)) == shape_of(x));
  CHECK(shape_of(se.excitation()) == Shape{2, 16, 1, 1});
  CBAM cbam(16, 4);
  CHECK(shape_of(cbam.forward(x)) == shape_of(x));
  CHECK(shape_of(cbam.channel_gate.weights()) == Shape{2, 16, 1, 1});
  CHECK(shape_of(cbam.spatial_gate.weights()) == Shape{2, 1, 6, 5});
  for (const Tensor* t :
       {&se.excitation(), &cbam.channel_gate.weights(), &cbam.spatial_gate.weights()})
    for (Scalar v : *t) CHECK((v > 0 && v < 1));
}

TEST_CASE("r-softmax: the R weights of each (group, channel) sum to one", "[rsoftmax]") {
  RSoftmax rs(4, 2);
  const Tensor y = rs.forward(test::random_tensor({3, 4 * 2 * 5, 1, 1}, 2) * 10.0);
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t gj = 0; gj < 2 * 5; ++gj) {
      double sum = 0;
      for (std::size_t r = 0; r < 4; ++r) sum += y(n, r * 10 + gj, 0, 0);
      CHECK(sum == Approx(1.0).epsilon(1e-6));
    }
}

TEST_CASE("State_dict names are torchvision's (SE) and the official CBAM code's", "[se][cbam]") {
  SqueezeExcitation se(16, 4);
  CHECK(parameter_names(se) ==
        std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
  CBAM cbam(16, 4);
  CHECK(parameter_names(cbam) ==
        std::vector<std::string>{
            "ChannelGate.mlp.1.weight", "ChannelGate.mlp.1.bias", "ChannelGate.mlp.3.weight",
            "ChannelGate.mlp.3.bias", "SpatialGate.spatial.conv.weight",
            "SpatialGate.spatial.bn.weight", "SpatialGate.spatial.bn.bias",
            "SpatialGate.spatial.bn.running_mean", "SpatialGate.spatial.bn.running_var",
            "SpatialGate.spatial.bn.num_batches_tracked"});
  // SE: 2 C Cr + Cr + C; CBAM: the same MLP plus the 7x7 2 -> 1 kernel and BN's gamma, beta
  CHECK(se.num_parameters() == 2 * 16 * 4 + 4 + 16);
  CHECK(cbam.num_parameters() == 2 * 16 * 4 + 4 + 16 + 98 + 2);
}

TEST_CASE("attention_cnn without attention is small_cnn; with it, the blocks' parameters more",
          "[model]") {
  auto plain = attention_cnn(10, StageAttention::None);
  auto reference = small_cnn(10);
  CHECK(parameter_names(*plain) == parameter_names(*reference));
  auto se = attention_cnn(10, StageAttention::SE);
  auto cbam = attention_cnn(10, StageAttention::CBAM);
  // r = 4: stages of 16, 32, 64 channels get 4, 8, 16 hidden units
  const std::size_t se_extra =
      (2 * 16 * 4 + 4 + 16) + (2 * 32 * 8 + 8 + 32) + (2 * 64 * 16 + 16 + 64);
  CHECK(se->num_parameters() == reference->num_parameters() + se_extra);
  CHECK(cbam->num_parameters() == se->num_parameters() + 3 * 100);
  const Tensor x = test::random_tensor({2, 3, 32, 32}, 4);
  CHECK(shape_of(cbam->forward(x)) == Shape{2, 10, 1, 1});
  CHECK(shape_of(cbam->backward(test::random_tensor({2, 10, 1, 1}, 5))) == shape_of(x));
}

TEST_CASE("Bad configurations throw an Error naming the value and what was expected",
          "[se][cbam][errors]") {
  check_error([] { SqueezeExcitation(0, 4); }, "channels=0");
  check_error([] { SqueezeExcitation(16, 0); }, "reduction=0");
  check_error([] { SqueezeExcitation(8, 16); }, "expected reduction <= channels");
  check_error([] { CBAM(8, 16); }, "ChannelGate(8, reduction=16)");
  check_error([] { SpatialGate(4); }, "expected an odd kernel size");
  check_error([] { RSoftmax(0, 2); }, "at least 1");
  check_error([] { attention_cnn(0, StageAttention::SE); }, "num_classes=0");
  SqueezeExcitation se(16, 4);
  check_error([&] { se.forward(zeros({1, 8, 4, 4})); }, "expected 16");
  check_error([&] { se.backward(zeros({1, 16, 4, 4})); }, "expected the last forward input");
  CBAM cbam(16, 4);
  check_error([&] { cbam.forward(zeros({1, 8, 4, 4})); }, "expected 16");
  RSoftmax rs(2, 2);
  check_error([&] { rs.forward(zeros({1, 6, 1, 1})); }, "divisible by radix * cardinality = 4");
}
