#pragma once
/// @file augment.hpp
/// @brief CIFAR augmentation as in the ResNet paper (He et al. 2015, sec. 4.2): pad 4 pixels
/// with zeros, take a random 32x32 crop, flip horizontally with probability 1/2; then
/// per-channel normalization.
///
/// torchvision writes the same pipeline as
/// `RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(mean, std)`.
/// Images are the 3 x 32 x 32 bytes of a CifarSet record.
#include <array>
#include <cstddef>
#include <cstdint>

#include "convbook/random.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

struct CifarSet;

/// @brief Per-channel mean and standard deviation of the CIFAR-10 training set on [0, 1].
struct Normalize {
  std::array<float, 3> mean{0.4914f, 0.4822f, 0.4465f};  ///< R, G, B means
  std::array<float, 3> std{0.2470f, 0.2435f, 0.2616f};   ///< R, G, B standard deviations
};

/// @brief Which augmentations a training loader applies.
struct AugmentOptions {
  bool random_crop = true;      ///< zero-pad by `padding`, then crop 32x32 at a random place
  std::size_t padding = 4;      ///< pixels of zero padding on each side
  bool horizontal_flip = true;  ///< mirror left-right with probability 1/2
};

/// @brief One sample's random choices: where the crop window sits and whether to flip.
struct AugmentDraw {
  int shift_y = 0;    ///< crop row offset minus padding, in [-padding, padding]
  int shift_x = 0;    ///< crop column offset minus padding, in [-padding, padding]
  bool flip = false;  ///< mirror left-right after cropping
};

/// @brief Draws one sample's augmentation from `rng`: crop offsets (row, then column), then flip.
AugmentDraw draw_augmentation(const AugmentOptions& options, Rng& rng);

/// @brief Crops (with zero padding) and optionally flips one image.
///
/// out(c, y, x) = image(c, y + shift_y, x' + shift_x), with x' = 31 - x when flipping and x
/// otherwise, and 0 where that falls outside the image.
/// @param image 3 x 32 x 32 bytes
/// @param draw the crop offsets and flip
/// @param out 3 x 32 x 32 bytes (must not overlap `image`)
void crop_and_flip(const std::uint8_t* image, const AugmentDraw& draw, std::uint8_t* out);

/// @brief out(c, y, x) = (image(c, y, x) / 255 - mean[c]) / std[c].
/// @param image 3 x 32 x 32 bytes
/// @param norm the per-channel mean and std
/// @param out 3 x 32 x 32 scalars
void normalize_image(const std::uint8_t* image, const Normalize& norm, Scalar* out);

/// @brief Images first .. first + count - 1 of `set`, normalized (no augmentation), as one
/// (count, 3, 32, 32) batch: what evaluation and the chapters' demos feed a model.
Tensor normalized_batch(const CifarSet& set, std::size_t first, std::size_t count,
                        const Normalize& norm = {});

}  // namespace convbook
