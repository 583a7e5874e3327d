// `convbook bench model` (chapters/00_framework/model_benchmark.hpp) and the per-layer profiler
// (convbook/profile.hpp): the JSON line's exact keys, the option errors, what the profile
// table lists, and that the profiler records nothing while it is off. Batch 2 of small_cnn,
// one timed step: the whole file runs in well under a second.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/00_framework/model_benchmark.hpp"
#include "chapters/00_framework/small_cnn.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/profile.hpp"

using namespace convbook;

namespace {

ModelBenchOptions quick(bool eval = false) {
  ModelBenchOptions o;
  o.models = {"small_cnn"};
  o.batch = 2;
  o.threads = {1};
  o.eval = eval;
  o.warmup = 0;
  o.repeats = 1;
  return o;
}

ModulePtr make_small_cnn(const std::string& name) {
  if (name != "small_cnn") throw Error("test: unknown model '" + name + "'");
  return small_cnn(10);
}

std::vector<nlohmann::json> json_lines(const ModelBenchOptions& o) {
  std::ostringstream out;
  REQUIRE(run_model_benchmark(o, make_small_cnn, out) == 0);
  std::vector<nlohmann::json> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

void require_error_naming(const ModelBenchOptions& o, const std::string& what) {
  std::ostringstream out;
  REQUIRE_THROWS_WITH(run_model_benchmark(o, make_small_cnn, out), Catch::Contains(what));
  CHECK(out.str().empty());  // nothing is measured before the options are checked
}

}  // namespace

TEST_CASE("bench model --json: one line per measurement with exactly the issue's keys",
          "[bench_model]") {
  for (bool eval : {false, true}) {
    ModelBenchOptions o = quick(eval);
    o.json = true;
    o.threads = {1, 2};
    const std::vector<nlohmann::json> lines = json_lines(o);
    REQUIRE(lines.size() == 2);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const nlohmann::json& j = lines[i];
      std::set<std::string> keys;
      for (const auto& item : j.items()) keys.insert(item.key());
      CHECK(keys == std::set<std::string>{"model", "mode", "threads", "batch", "img_per_s"});
      CHECK(j["model"] == "small_cnn");
      CHECK(j["mode"] == (eval ? "eval" : "train"));
      CHECK(j["threads"] == o.threads[i]);
      CHECK(j["batch"] == 2);
      CHECK(j["img_per_s"].get<double>() > 0);
    }
  }
}

TEST_CASE("bench model: bad options throw naming the option and what was expected",
          "[bench_model]") {
  ModelBenchOptions o = quick();
  o.models.clear();
  require_error_naming(o, "no --model");
  o = quick();
  o.batch = 0;
  require_error_naming(o, "--batch-size=0, expected at least 1");
  o = quick();
  o.threads = {1, 0};
  require_error_naming(o, "--threads=0, expected >= 1");
  o = quick();
  o.threads.clear();
  require_error_naming(o, "no --threads");
  o = quick();
  o.warmup = -1;
  require_error_naming(o, "--warmup=-1, expected >= 0");
  o = quick();
  o.repeats = 0;
  require_error_naming(o, "--repeats=0, expected >= 1");
  o = quick();
  o.json = o.profile = true;
  require_error_naming(o, "--profile");
  o = quick();
  o.models = {"nope"};
  require_error_naming(o, "unknown model 'nope'");
}

TEST_CASE("bench model: a training step updates the weights, an eval step does not",
          "[bench_model]") {
  for (bool eval : {false, true}) {
    ModulePtr m = small_cnn(10);
    Parameter* w = nullptr;
    m->visit_parameters([&w](const std::string& name, Parameter& p) {
      if (name == "0.weight") w = &p;
    });
    REQUIRE(w != nullptr);
    const Tensor before = w->value;
    ModelStep step(*m, 2, eval);
    const double loss = step.run();
    const bool unchanged = std::equal(before.begin(), before.end(), w->value.begin());
    CHECK(m->training() == !eval);
    if (eval) {
      CHECK(loss == 0);
      CHECK(unchanged);
    } else {
      CHECK(loss > 0);  // cross-entropy of 10 classes starts near log(10)
      CHECK_FALSE(unchanged);
    }
  }
}

TEST_CASE("bench model --profile: a row per layer, by type, and the untimed rest",
          "[bench_model]") {
  ModelBenchOptions o = quick();
  o.repeats = 2;
  o.profile = true;
  std::ostringstream out;
  run_model_benchmark(o, make_small_cnn, out);
  const std::string text = out.str();
  // small_cnn's children are "0" (Conv2d) ... "19" (Linear): each one is a row.
  CHECK_THAT(text, Catch::Contains("\n0 ") && Catch::Contains("Conv2d") &&
                       Catch::Contains("BatchNorm2d") && Catch::Contains("MaxPool2d") &&
                       Catch::Contains("AdaptiveAvgPool2d") && Catch::Contains("Linear"));
  CHECK_THAT(text, Catch::Contains("by type, slowest first") && Catch::Contains("6x") &&
                       Catch::Contains("untimed"));
}

TEST_CASE("Profiler: counts each timed call, nests, and records nothing while off",
          "[bench_model]") {
  Sequential net;
  ReLU& relu = net.emplace<ReLU>();
  Tensor x = zeros({1, 2, 3, 3});
  net.forward(x);  // no profiler active: nothing to record, nothing to crash
  Profiler p;
  CHECK_FALSE(p.has(&relu));
  p.start();
  REQUIRE(Profiler::active() == &p);
  net.backward(net.forward(x));
  net.forward(x);
  {
    const ProfileScope outer(&net, Pass::forward);  // a block timing itself around its layers
    net.forward(x);
  }
  p.stop();
  net.forward(x);
  CHECK(Profiler::active() == nullptr);
  const ModuleTime t = p.time_of(&relu);
  CHECK(t.forward_calls == 3);
  CHECK(t.backward_calls == 1);
  CHECK(t.forward_s > 0);
  CHECK(p.time_of(&net).forward_calls == 1);
  CHECK(p.time_of(&net).forward_s >= 0);

  Profiler other;
  p.start();
  CHECK_THROWS_WITH(other.start(), Catch::Contains("another profiler is active"));
  p.stop();
}

TEST_CASE("profile_table: nested rows count once, in the innermost layer", "[bench_model]") {
  Sequential net;
  ReLU& relu = net.emplace<ReLU>();
  Profiler p;
  p.record(&net, Pass::forward, 1.0);    // the model timing itself: 1 s, its layer included
  p.record(&relu, Pass::forward, 0.25);  // the layer inside it
  p.record(&relu, Pass::backward, 0.5);
  const std::string text = profile_table(net, p, 1, 2000);
  CHECK_THAT(text, Catch::Contains("(model)") && Catch::Contains("\n0 "));
  CHECK_THAT(text, Catch::Contains("1x    250.000    500.000    750.000   37.5%"));
  CHECK_THAT(text, Catch::Contains("timed layers 750.000 ms of a 2000.000 ms step; untimed "
                                   "1250.000 ms (62.5%)"));
}
