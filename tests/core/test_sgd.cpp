// SGD against torch.optim.SGD: the same start, the same five gradients, the same trajectory.
// Fixture: tests/tools/make_optim_fixtures.py -> tests/fixtures/optim_sgd.safetensors.
#include <catch2/catch.hpp>
#include <string>

#include "convbook/error.hpp"
#include "convbook/io/safetensors.hpp"
#include "convbook/optim/sgd.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

const SafetensorsFile& fixture() {
  static const SafetensorsFile f =
      read_safetensors(std::string(CONVBOOK_FIXTURES_DIR) + "/optim_sgd.safetensors");
  return f;
}

// Runs SGD with `options` over the fixture's five gradients; returns the worst relative error
// of w after each step against torch's trajectory `config`.
double trajectory_error(const std::string& config, const SgdOptions& options) {
  const StoredTensor& w0 = fixture().tensors.at("w0");
  const StoredTensor& grads = fixture().tensors.at("grads");
  const StoredTensor& want = fixture().tensors.at(config + ".trajectory");
  Parameter w = Parameter::make({3, 4});
  for (std::size_t i = 0; i < 12; ++i) w.value.data()[i] = Scalar(w0.data[i]);
  SGD sgd({{"w", &w}}, options);
  double worst = 0;
  for (std::size_t t = 0; t < 5; ++t) {
    for (std::size_t i = 0; i < 12; ++i) w.grad.data()[i] = Scalar(grads.data[t * 12 + i]);
    sgd.step();
    const std::vector<double> expected(want.data.begin() + std::ptrdiff_t(t * 12),
                                       want.data.begin() + std::ptrdiff_t(t * 12 + 12));
    worst = std::max(worst, test::rel_error(w.value, expected));
  }
  return worst;
}

SgdOptions opts(double lr, double momentum = 0, double weight_decay = 0, bool nesterov = false,
                double dampening = 0) {
  SgdOptions o;
  o.lr = lr;
  o.momentum = momentum;
  o.weight_decay = weight_decay;
  o.nesterov = nesterov;
  o.dampening = dampening;
  return o;
}

}  // namespace

// Float arithmetic over 5 steps of O(1) values: 1e-5 relative leaves room for rounding only.
TEST_CASE("SGD follows torch.optim.SGD's trajectory step by step", "[sgd]") {
  CHECK(trajectory_error("plain", opts(0.1)) < 1e-5);
  CHECK(trajectory_error("momentum", opts(0.1, 0.9)) < 1e-5);
  CHECK(trajectory_error("nesterov", opts(0.1, 0.9, 0, true)) < 1e-5);
  CHECK(trajectory_error("weight_decay", opts(0.1, 0.9, 0.05)) < 1e-5);
  CHECK(trajectory_error("dampening", opts(0.05, 0.8, 0.01, false, 0.3)) < 1e-5);
}

TEST_CASE("SGD's first momentum step equals a plain step (buffer starts at the gradient)",
          "[sgd]") {
  Parameter a = Parameter::make({4}), b = Parameter::make({4});
  for (int i = 0; i < 4; ++i) {
    a.value.data()[i] = b.value.data()[i] = Scalar(i);
    a.grad.data()[i] = b.grad.data()[i] = Scalar(1 - i);
  }
  SGD plain({{"a", &a}}, opts(0.1)), heavy({{"b", &b}}, opts(0.1, 0.9));
  plain.step();
  heavy.step();
  CHECK(test::rel_error(a.value, b.value) < 1e-7);
  REQUIRE(heavy.state().size() == 1);
  CHECK(heavy.state()[0].first == "b.momentum_buffer");
  CHECK(plain.state().empty());  // no momentum, no buffers to save
}

TEST_CASE("SGD skips buffers and restores saved momentum", "[sgd]") {
  Parameter w = Parameter::make({2}), running = Parameter::make_buffer({2});
  w.grad.fill(1);
  SGD sgd({{"w", &w}, {"running_mean", &running}}, opts(1.0, 0.5));
  sgd.step();
  CHECK(running.value(0, 0, 0, 0) == 0);  // untouched
  CHECK(w.value(0, 0, 0, 0) == Approx(-1.0));

  // A second optimizer given the first one's buffer continues identically.
  Parameter w2 = Parameter::make({2});
  w2.value = w.value;
  w2.grad.fill(1);
  SGD resumed({{"w", &w2}}, opts(1.0, 0.5));
  resumed.load_state("w.momentum_buffer", {1.0, 1.0});
  sgd.step();
  resumed.step();
  CHECK(test::rel_error(w.value, w2.value) < 1e-7);
  CHECK(w.value(0, 0, 0, 0) == Approx(-1.0 - 1.5));  // b = 0.5 * 1 + 1

  CHECK_THROWS_WITH(resumed.load_state("v.momentum_buffer", {1.0, 1.0}),
                    Catch::Contains("matches no optimized parameter"));
  CHECK_THROWS_WITH(resumed.load_state("w.momentum_buffer", {1.0}), Catch::Contains("expected 2"));
}

TEST_CASE("SGD rejects bad hyper-parameters with clear messages", "[sgd]") {
  Parameter w = Parameter::make({1});
  CHECK_THROWS_WITH(SGD({{"w", &w}}, opts(-0.1)), Catch::Contains("lr=-0.1"));
  CHECK_THROWS_WITH(SGD({{"w", &w}}, opts(0.1, -1)), Catch::Contains("momentum"));
  CHECK_THROWS_WITH(SGD({{"w", &w}}, opts(0.1, 0, -1)), Catch::Contains("weight_decay"));
  CHECK_THROWS_WITH(SGD({{"w", &w}}, opts(0.1, 0, 0, true)),
                    Catch::Contains("nesterov needs momentum > 0"));
  SGD ok({{"w", &w}}, opts(0.1));
  CHECK_THROWS_AS(ok.set_lr(std::nan("")), Error);
}
