// Augmentation and the batch loader: crops shift, flips mirror, normalization maps bytes to
// (v/255 - mean)/std; every image is served exactly once per epoch, in an order fixed by
// (seed, epoch), with the last batch partial, and a loader can be dropped mid-epoch.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <set>
#include <vector>

#include "convbook/data/augment.hpp"
#include "convbook/data/loader.hpp"
#include "convbook/error.hpp"

using namespace convbook;

namespace {

constexpr std::size_t kPlane = kCifarSize * kCifarSize;

/// A test image whose bytes tell where they came from: value(c, y, x) = 1 + c*80 + 2y + x, in
/// 1..254, never 0, so zero padding is told apart from image content.
std::uint8_t pattern(std::size_t c, int y, int x) {
  return std::uint8_t(1 + (c * 80 + std::size_t(y) * 2 + std::size_t(x)) % 255);
}

std::vector<std::uint8_t> pattern_image() {
  std::vector<std::uint8_t> image(kCifarImageBytes);
  for (std::size_t c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        image[c * kPlane + std::size_t(y) * 32 + std::size_t(x)] = pattern(c, y, x);
  return image;
}

/// n images, image i filled with the byte i % 256 (n <= 256 keeps the index recoverable), label i
/// % 10.
CifarSet numbered_set(std::size_t n) {
  CifarSet set;
  set.pixels.resize(n * kCifarImageBytes);
  set.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::fill_n(set.pixels.begin() + std::ptrdiff_t(i * kCifarImageBytes), kCifarImageBytes,
                std::uint8_t(i % 256));
    set.labels[i] = int(i % 10);
  }
  return set;
}

/// Mean 0 and std 1/255 turn a byte v back into v: the loader's output reads as raw pixels.
Normalize identity_norm() {
  Normalize n;
  n.mean = {0, 0, 0};
  n.std = {1.0f / 255, 1.0f / 255, 1.0f / 255};
  return n;
}

/// The image index a served image came from: its centre pixel, which no crop of +-4 pads.
std::size_t index_of(const Batch& b, std::size_t i) {
  return std::size_t(std::lround(b.images(i, 0, 16, 16)));
}

/// All indices of one epoch, in serving order, checking labels and batch sizes on the way.
std::vector<std::size_t> run_epoch(BatchLoader& loader, std::size_t epoch,
                                   std::vector<std::size_t>* batch_sizes = nullptr) {
  loader.start_epoch(epoch);
  std::vector<std::size_t> seen;
  Batch b;
  while (loader.next(b)) {
    if (batch_sizes) batch_sizes->push_back(b.labels.size());
    REQUIRE(b.images.shape()[0] == b.labels.size());
    for (std::size_t i = 0; i < b.labels.size(); ++i) {
      seen.push_back(index_of(b, i));
      CHECK(b.labels[i] == int(seen.back() % 10));  // labels travel with their images
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("augment: a crop shifts the image and fills with zeros what lies outside",
          "[data][augment]") {
  const std::vector<std::uint8_t> image = pattern_image();
  std::vector<std::uint8_t> out(kCifarImageBytes);
  AugmentDraw draw;
  draw.shift_y = 3;   // window starts 3 rows lower: out row y = image row y + 3
  draw.shift_x = -2;  // and 2 columns to the left: out column x = image column x - 2
  crop_and_flip(image.data(), draw, out.data());
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(out[c * kPlane + 0 * 32 + 5] == pattern(c, 3, 3));
    CHECK(out[c * kPlane + 28 * 32 + 31] == pattern(c, 31, 29));
    CHECK(out[c * kPlane + 10 * 32 + 0] == 0);  // column -2: padding
    CHECK(out[c * kPlane + 10 * 32 + 1] == 0);  // column -1: padding
    CHECK(out[c * kPlane + 10 * 32 + 2] == pattern(c, 13, 0));
    CHECK(out[c * kPlane + 29 * 32 + 10] == 0);  // row 32: padding
  }
  // no shift, no flip: the identity
  crop_and_flip(image.data(), AugmentDraw{}, out.data());
  CHECK(out == image);
}

TEST_CASE("augment: a flip mirrors each row, after the crop", "[data][augment]") {
  const std::vector<std::uint8_t> image = pattern_image();
  std::vector<std::uint8_t> out(kCifarImageBytes);
  AugmentDraw draw;
  draw.flip = true;
  crop_and_flip(image.data(), draw, out.data());
  for (std::size_t c = 0; c < 3; ++c)
    for (int y = 0; y < 32; y += 7)
      for (int x = 0; x < 32; x += 5)
        CHECK(out[c * kPlane + std::size_t(y * 32 + x)] == pattern(c, y, 31 - x));

  draw.shift_x = 4;  // crop then flip: out(y, x) = image(y, 31 - x + 4); x < 4 reads padding
  crop_and_flip(image.data(), draw, out.data());
  CHECK(out[5 * 32 + 10] == pattern(0, 5, 25));
  CHECK(out[5 * 32 + 3] == 0);
  CHECK(out[5 * 32 + 4] == pattern(0, 5, 31));
}

TEST_CASE("augment: draws stay within the padding and use both flip outcomes", "[data][augment]") {
  Rng rng(11);
  AugmentOptions opt;  // padding 4, crop and flip on
  std::set<int> shifts;
  int flips = 0;
  for (int i = 0; i < 2000; ++i) {
    const AugmentDraw d = draw_augmentation(opt, rng);
    CHECK(std::abs(d.shift_y) <= 4);
    CHECK(std::abs(d.shift_x) <= 4);
    shifts.insert(d.shift_x);
    flips += d.flip;
  }
  CHECK(shifts.size() == 9);  // all of -4..4 occur
  CHECK(flips > 900);         // p = 1/2: 1000 +- 22 (1 sigma); 900 is 4.5 sigma
  CHECK(flips < 1100);

  opt.random_crop = false;
  opt.horizontal_flip = false;
  const AugmentDraw none = draw_augmentation(opt, rng);
  CHECK(none.shift_x == 0);
  CHECK(none.shift_y == 0);
  CHECK_FALSE(none.flip);
}

TEST_CASE("augment: normalization is (v / 255 - mean[c]) / std[c] per channel", "[data][augment]") {
  std::vector<std::uint8_t> image(kCifarImageBytes, 0);
  image[0] = 255;              // R, first pixel
  image[kPlane + 7] = 128;     // G
  image[2 * kPlane + 99] = 0;  // B
  std::vector<Scalar> out(kCifarImageBytes);
  const Normalize norm;  // CIFAR-10 statistics
  normalize_image(image.data(), norm, out.data());
  // float arithmetic: ~1e-6 relative is a few ulps
  CHECK(out[0] == Approx((1.0 - 0.4914) / 0.2470).epsilon(1e-6));
  CHECK(out[kPlane + 7] == Approx((128.0 / 255 - 0.4822) / 0.2435).epsilon(1e-6));
  CHECK(out[2 * kPlane + 99] == Approx(-0.4465 / 0.2616).epsilon(1e-6));
  CHECK(out[1] == Approx(-0.4914 / 0.2470).epsilon(1e-6));
}

TEST_CASE("loader: every image exactly once per epoch, partial last batch", "[data][loader]") {
  const CifarSet set = numbered_set(250);
  BatchLoader loader(set, 32, /*train=*/true, /*seed=*/5, AugmentOptions{}, identity_norm());
  CHECK(loader.num_batches() == 8);  // ceil(250 / 32)

  std::vector<std::size_t> sizes;
  const std::vector<std::size_t> seen = run_epoch(loader, 0, &sizes);
  CHECK(sizes == std::vector<std::size_t>{32, 32, 32, 32, 32, 32, 32, 26});
  CHECK(seen == loader.order());  // served in the announced order
  std::vector<std::size_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> all(250);
  std::iota(all.begin(), all.end(), std::size_t(0));
  CHECK(sorted == all);
  CHECK(seen != all);  // and shuffled

  Batch b;
  CHECK_FALSE(loader.next(b));  // the epoch is over
}

TEST_CASE("loader: the order depends on (seed, epoch) only", "[data][loader]") {
  const CifarSet set = numbered_set(100);
  BatchLoader a(set, 16, true, 42, AugmentOptions{}, identity_norm());
  BatchLoader b(set, 16, true, 42, AugmentOptions{}, identity_norm());
  BatchLoader c(set, 16, true, 43, AugmentOptions{}, identity_norm());
  const auto a0 = run_epoch(a, 0);
  const auto a1 = run_epoch(a, 1);
  CHECK(run_epoch(b, 1) == a1);  // same (seed, epoch), another loader, other history
  CHECK(run_epoch(b, 0) == a0);
  CHECK(a0 != a1);               // another epoch: another order
  CHECK(run_epoch(c, 0) != a0);  // another seed: another order

  // the augmentation is reproducible too: the same pixels, not only the same indices
  Batch x, y;
  a.start_epoch(3);
  b.start_epoch(3);
  REQUIRE(a.next(x));
  REQUIRE(b.next(y));
  CHECK(std::equal(x.images.begin(), x.images.end(), y.images.begin()));
}

TEST_CASE("loader: evaluation keeps file order and does not augment", "[data][loader]") {
  const CifarSet set = numbered_set(50);
  BatchLoader loader(set, 20, /*train=*/false, 1, AugmentOptions{}, identity_norm());
  std::vector<std::size_t> sizes;
  const auto seen = run_epoch(loader, 0, &sizes);
  std::vector<std::size_t> all(50);
  std::iota(all.begin(), all.end(), std::size_t(0));
  CHECK(seen == all);
  CHECK(sizes == std::vector<std::size_t>{20, 20, 10});
  // no crop: the corner pixel is the image's own value, not padding
  loader.start_epoch(1);
  Batch b;
  REQUIRE(loader.next(b));
  CHECK(b.images(7, 2, 0, 0) == Approx(7));
  CHECK(b.images(7, 2, 31, 31) == Approx(7));
}

TEST_CASE("loader: destroying or restarting mid-epoch is clean", "[data][loader]") {
  const CifarSet set = numbered_set(200);
  {
    BatchLoader loader(set, 8, true, 9);
    loader.start_epoch(0);
    Batch b;
    REQUIRE(loader.next(b));  // the worker is now blocked on a full queue
  }                           // the destructor must stop and join it (else: hang or terminate)
  BatchLoader loader(set, 8, true, 9, AugmentOptions{}, identity_norm());
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  const auto full = run_epoch(loader, 0);  // restart the same epoch: a complete, fresh pass
  CHECK(full.size() == 200);
  CHECK(full == loader.order());

  BatchLoader never_started(set, 8, true, 9);
  CHECK_THROWS_WITH(never_started.next(b), Catch::Contains("start_epoch"));
  CHECK_THROWS_WITH(BatchLoader(set, 0, true, 9), Catch::Contains("batch_size"));
}
