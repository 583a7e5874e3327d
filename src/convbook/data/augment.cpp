#include "convbook/data/augment.hpp"

#include "convbook/data/cifar.hpp"

namespace convbook {

AugmentDraw draw_augmentation(const AugmentOptions& options, Rng& rng) {
  AugmentDraw draw;
  if (options.random_crop) {
    // torchvision picks the window's top-left corner in [0, 2 * padding] of the padded image.
    const std::uint64_t range = 2 * options.padding + 1;
    draw.shift_y = int(rng.below(range)) - int(options.padding);
    draw.shift_x = int(rng.below(range)) - int(options.padding);
  }
  if (options.horizontal_flip) draw.flip = rng.uniform() < 0.5;
  return draw;
}

//! [crop-and-flip]
// image, out: (3, 32, 32) bytes. Reading through the shift is the same as padding with zeros
// and cropping, without building the 40 x 40 padded image.
void crop_and_flip(const std::uint8_t* image, const AugmentDraw& draw, std::uint8_t* out) {
  const int size = int(kCifarSize);
  for (std::size_t c = 0; c < kCifarChannels; ++c) {
    const std::uint8_t* src = image + c * kCifarSize * kCifarSize;
    std::uint8_t* dst = out + c * kCifarSize * kCifarSize;
    for (int y = 0; y < size; ++y) {
      const int sy = y + draw.shift_y;
      for (int x = 0; x < size; ++x) {
        const int sx = (draw.flip ? size - 1 - x : x) + draw.shift_x;
        const bool inside = sy >= 0 && sy < size && sx >= 0 && sx < size;
        dst[y * size + x] = inside ? src[sy * size + sx] : 0;
      }
    }
  }
}
//! [crop-and-flip]

//! [normalize]
// image: (3, 32, 32) bytes -> out: (3, 32, 32) scalars, zero mean and unit variance per channel
// over the training set.
void normalize_image(const std::uint8_t* image, const Normalize& norm, Scalar* out) {
  const std::size_t plane = kCifarSize * kCifarSize;
  for (std::size_t c = 0; c < kCifarChannels; ++c) {
    const float scale = 1.0f / (255.0f * norm.std[c]);
    const float shift = norm.mean[c] / norm.std[c];
    for (std::size_t i = 0; i < plane; ++i) {
      out[c * plane + i] = Scalar(float(image[c * plane + i]) * scale - shift);
    }
  }
}
//! [normalize]

Tensor normalized_batch(const CifarSet& set, std::size_t first, std::size_t count,
                        const Normalize& norm) {
  Tensor x = zeros({count, kCifarChannels, kCifarSize, kCifarSize});
  for (std::size_t i = 0; i < count; ++i)
    normalize_image(set.image(first + i), norm, x.data() + i * kCifarImageBytes);
  return x;
}

}  // namespace convbook
