// Checks chapter 11's exercises against the framework itself: Module::num_parameters of the
// library's ResNeXt-29s, the convolution weights of the library's grouped blocks for every
// width d, and the paths that grouped_to_paths builds from a grouped block.
#include "support/check.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/11_resnext/resnext29.hpp"
#include "chapters/11_resnext/resnext_forms.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;

namespace {

// The values of a parameter as a plain vector.
std::vector<float> values(const Parameter& p) {
  return {p.value.begin(), p.value.end()};
}

// The convolution weights of the library's grouped block (C -> C, G x d): what 11.2 counts.
std::size_t conv_weights(std::size_t C, std::size_t G, std::size_t d) {
  std::size_t n = 0;
  resnext_bottleneck({C, C, G, d})->visit_parameters([&](const std::string& name, Parameter& p) {
    if (name.find("conv") != std::string::npos) n += p.numel();
  });
  return n;
}

}  // namespace

TEST_CASE("11.1 ResNeXt-29's parameter count in closed form", "[exercise]") {
  for (const ResNeXt29Options& o : {ResNeXt29Options{8, 64, 4, 10}, ResNeXt29Options{16, 64, 4, 10},
                                    ResNeXt29Options{4, 16, 4, 10}, ResNeXt29Options{4, 16, 1, 100},
                                    ResNeXt29Options{2, 8, 2, 7}}) {
    INFO(o.name() << ", " << o.num_classes << " classes");
    CHECK(ex11::resnext29_parameters(o.cardinality, o.bottleneck_width, o.widen_factor,
                                     o.num_classes) == resnext29(o)->num_parameters());
  }
}

TEST_CASE("11.2 the width that keeps the complexity as the cardinality grows", "[exercise]") {
  const std::size_t C = 256, budget = conv_weights(C, 1, 64);  // the 1x64d template
  for (const std::size_t G : {1, 2, 4, 8, 32, 3}) {
    // The library's answer: the nearest d (the smaller on a tie), walking up until a block
    // holds more than the budget (the count only grows with d).
    std::size_t best = 1, best_distance = budget;
    for (std::size_t d = 1;; ++d) {
      const std::size_t n = conv_weights(C, G, d);
      const std::size_t distance = n > budget ? n - budget : budget - n;
      if (distance < best_distance) best = d, best_distance = distance;
      if (n > budget) break;
    }
    INFO("G=" << G << " (the paper's Table 2: 64, 40, 24, 14, 4 for G = 1, 2, 4, 8, 32)");
    CHECK(ex11::equal_complexity_width(C, G, budget) == best);
  }
}

TEST_CASE("11.3 form (a)'s paths cut out of form (c)'s weights", "[exercise]") {
  const std::size_t C = 6, K = 8, G = 3, d = 2;
  manual_seed(3);
  auto c = resnext_bottleneck({C, K, G, d});
  ResNeXtBlockA a({C, K, G, d});
  grouped_to_paths(*c, a);
  const auto paths = ex11::split_grouped_block(values(c->conv1.weight), values(c->conv2.weight),
                                               values(c->conv3.weight), C, K, G, d);
  REQUIRE(paths.size() == G);
  for (std::size_t g = 0; g < G; ++g) {
    INFO("path " << g);
    CHECK(exercise::allclose_ratio(paths[g].conv1, a.path(g).conv1.weight.value) <= 1.0);
    CHECK(exercise::allclose_ratio(paths[g].conv2, a.path(g).conv2.weight.value) <= 1.0);
    CHECK(exercise::allclose_ratio(paths[g].conv3, a.path(g).conv3->weight.value) <= 1.0);
  }
}
