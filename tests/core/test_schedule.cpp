// Learning-rate schedules at key iterations, against torch's schedulers (values printed by
// torch 1.13 for the same settings) or closed forms. Relative tolerance 1e-9: these are doubles
// computed by the same formulas.
#include <catch2/catch.hpp>
#include <cmath>

#include "convbook/error.hpp"
#include "convbook/optim/schedule.hpp"

using namespace convbook;

namespace {

ScheduleOptions run(ScheduleKind kind, std::size_t epochs, std::size_t iters,
                    std::size_t warmup = 0) {
  ScheduleOptions o;
  o.kind = kind;
  o.base_lr = 0.1;
  o.epochs = epochs;
  o.iters_per_epoch = iters;
  o.warmup_epochs = warmup;
  return o;
}

}  // namespace

TEST_CASE("one-cycle matches torch OneCycleLR(max_lr=0.1, total_steps=100)", "[schedule]") {
  const LrSchedule s(run(ScheduleKind::OneCycle, 10, 10));
  // torch: [lr before each optimizer.step()] for steps 0, 1, 10, 28, 29, 30, 50, 99
  CHECK(s.lr_at(0) == Approx(0.0040000000000000036).epsilon(1e-9));  // max_lr / div_factor
  CHECK(s.lr_at(1) == Approx(0.004281378056590748).epsilon(1e-9));
  CHECK(s.lr_at(10) == Approx(0.029516394846410082).epsilon(1e-9));
  CHECK(s.lr_at(28) == Approx(0.09971862194340926).epsilon(1e-9));
  CHECK(s.lr_at(29) == Approx(0.1).epsilon(1e-9));  // the peak at 0.3 T - 1
  CHECK(s.lr_at(30) == Approx(0.09994965352845243).epsilon(1e-9));
  CHECK(s.lr_at(50) == Approx(0.0793893450575732).epsilon(1e-9));
  CHECK(s.lr_at(99) == Approx(4e-07).epsilon(1e-9));  // initial / final_div
}

TEST_CASE("cosine matches torch CosineAnnealingLR(T_max=100) stepped per iteration", "[schedule]") {
  const LrSchedule s(run(ScheduleKind::Cosine, 4, 25));
  CHECK(s.lr_at(0) == Approx(0.1).epsilon(1e-9));
  CHECK(s.lr_at(1) == Approx(0.09997532801828658).epsilon(1e-9));
  CHECK(s.lr_at(25) == Approx(0.0853553390593274).epsilon(1e-9));
  CHECK(s.lr_at(50) == Approx(0.05).epsilon(1e-9));
  CHECK(s.lr_at(75) == Approx(0.014644660940672643).epsilon(1e-9));
  CHECK(s.lr_at(99) == Approx(2.4671981713420017e-05).epsilon(1e-9));
  CHECK(s.lr_at(1000) == s.lr_at(99));  // past the end: the last value
}

TEST_CASE("step decays by gamma every step_epochs epochs, as torch StepLR(3, 0.1) per epoch",
          "[schedule]") {
  ScheduleOptions o = run(ScheduleKind::Step, 10, 7);
  o.step_epochs = 3;
  const LrSchedule s(o);
  CHECK(s.lr_at(0) == Approx(0.1));
  CHECK(s.lr_at(3 * 7 - 1) == Approx(0.1));  // last iteration of epoch 2 (0-based)
  CHECK(s.lr_at(3 * 7) == Approx(0.01));     // first of epoch 3
  CHECK(s.lr_at(6 * 7) == Approx(0.001));
  CHECK(s.lr_at(9 * 7 + 6) == Approx(0.0001));

  const LrSchedule by_default(run(ScheduleKind::Step, 9, 1));  // step_epochs 0 -> epochs / 3
  CHECK(by_default.options().step_epochs == 3);
}

TEST_CASE("warm-up rises linearly, then the main schedule runs over the rest", "[schedule]") {
  const LrSchedule s(run(ScheduleKind::Cosine, 5, 10, /*warmup=*/1));
  CHECK(s.lr_at(0) == Approx(0.01));  // base * 1/10: never exactly zero
  CHECK(s.lr_at(4) == Approx(0.05));
  CHECK(s.lr_at(9) == Approx(0.1));
  // After warm-up: a 40-iteration cosine, starting at the peak, halfway at 20.
  CHECK(s.lr_at(10) == Approx(0.1));
  CHECK(s.lr_at(30) == Approx(0.05));
  const LrSchedule flat(run(ScheduleKind::Constant, 3, 4, 2));
  CHECK(flat.lr_at(3) == Approx(0.05));
  CHECK(flat.lr_at(8) == Approx(0.1));
  CHECK(flat.lr_at(11) == Approx(0.1));
}

TEST_CASE("schedules reject bad names and values with clear messages", "[schedule]") {
  CHECK(parse_schedule("onecycle") == ScheduleKind::OneCycle);
  CHECK(to_string(parse_schedule("cosine")) == "cosine");
  CHECK_THROWS_WITH(parse_schedule("linear"),
                    Catch::Contains("'linear'") &&
                        Catch::Contains("constant, step, multistep, cosine, onecycle"));
  CHECK_THROWS_WITH(LrSchedule(run(ScheduleKind::Cosine, 3, 10, 3)), Catch::Contains("warmup=3"));
  CHECK_THROWS_WITH(LrSchedule(run(ScheduleKind::Cosine, 0, 10)), Catch::Contains("epochs=0"));
  ScheduleOptions bad = run(ScheduleKind::Constant, 1, 1);
  bad.base_lr = 0;
  CHECK_THROWS_AS(LrSchedule(bad), Error);
  bad.base_lr = 0.1;
  bad.gamma = 2;
  CHECK_THROWS_WITH(LrSchedule(bad), Catch::Contains("gamma=2"));
}

TEST_CASE("multistep multiplies by gamma at each milestone, as torch MultiStepLR per epoch",
          "[schedule]") {
  // He et al. 2016's CIFAR schedule scaled down: 16 epochs of 5 iterations, lr / 10 at the
  // start of epochs 8 and 12 (0-based). Closed form: base * gamma^(milestones <= epoch).
  ScheduleOptions o = run(ScheduleKind::MultiStep, 16, 5);
  o.milestones = {8, 12};
  const LrSchedule s(o);
  for (std::size_t i = 0; i < 16 * 5; ++i) {
    const std::size_t epoch = i / 5;
    const double expected = 0.1 * std::pow(0.1, double((epoch >= 8) + (epoch >= 12)));
    CHECK(s.lr_at(i) == Approx(expected).epsilon(1e-12));
  }
  CHECK(s.lr_at(8 * 5 - 1) == Approx(0.1));  // last iteration before the first milestone
  CHECK(s.lr_at(8 * 5) == Approx(0.01));
  CHECK(s.lr_at(12 * 5) == Approx(0.001));

  // WRN's schedule: x0.2 at 60, 120, 160 of 200 epochs.
  ScheduleOptions wrn = run(ScheduleKind::MultiStep, 200, 1);
  wrn.gamma = 0.2;
  wrn.milestones = {60, 120, 160};
  const LrSchedule w(wrn);
  CHECK(w.lr_at(59) == Approx(0.1));
  CHECK(w.lr_at(60) == Approx(0.02));
  CHECK(w.lr_at(120) == Approx(0.004));
  CHECK(w.lr_at(199) == Approx(0.0008));

  // A milestone equal to epochs is allowed (torch never reaches it either).
  ScheduleOptions last = run(ScheduleKind::MultiStep, 3, 2);
  last.milestones = {3};
  CHECK(LrSchedule(last).lr_at(5) == Approx(0.1));
}

TEST_CASE("multistep milestones count epochs from the start of the run, warm-up included",
          "[schedule]") {
  ScheduleOptions o = run(ScheduleKind::MultiStep, 6, 4, /*warmup=*/1);
  o.milestones = {3, 5};
  const LrSchedule s(o);
  CHECK(s.lr_at(0) == Approx(0.025));  // warm-up: base * 1/4
  CHECK(s.lr_at(3) == Approx(0.1));
  CHECK(s.lr_at(4) == Approx(0.1));          // epoch 1: the main curve at its peak
  CHECK(s.lr_at(3 * 4 - 1) == Approx(0.1));  // epoch 2, last iteration
  CHECK(s.lr_at(3 * 4) == Approx(0.01));     // epoch 3
  CHECK(s.lr_at(5 * 4) == Approx(0.001));    // epoch 5
  CHECK(to_string(parse_schedule("multistep")) == "multistep");
}

TEST_CASE("multistep rejects bad milestones, naming them and what was expected", "[schedule]") {
  ScheduleOptions o = run(ScheduleKind::MultiStep, 10, 1);
  CHECK_THROWS_WITH(LrSchedule(o), Catch::Contains("multistep needs milestones"));
  o.milestones = {5, 3};
  CHECK_THROWS_WITH(LrSchedule(o),
                    Catch::Contains("milestones=[5,3]") && Catch::Contains("strictly increasing"));
  o.milestones = {4, 4};
  CHECK_THROWS_WITH(LrSchedule(o), Catch::Contains("strictly increasing"));
  o.milestones = {0, 5};
  CHECK_THROWS_WITH(LrSchedule(o), Catch::Contains("milestones=[0,5]") &&
                                       Catch::Contains("expected each in (0, 10]"));
  o.milestones = {5, 11};
  CHECK_THROWS_WITH(LrSchedule(o), Catch::Contains("(0, 10]") && Catch::Contains("11 is not"));
  o.warmup_epochs = 5;
  o.milestones = {5, 8};
  CHECK_THROWS_WITH(LrSchedule(o), Catch::Contains("expected each in (5, 10]"));
  o.milestones = {6, 10};
  CHECK_NOTHROW(LrSchedule(o));
}
