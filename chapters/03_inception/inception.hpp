#pragma once
/// @file inception.hpp
/// @brief The Inception block (Szegedy et al. 2015, GoogLeNet v1, fig. 2): parallel 1x1, 3x3
/// and 5x5 convolutions and a 3x3 max-pool on the same input, concatenated along the channels,
/// with the backward pass routed through the four branches by hand.
///
/// Legend: N batch, C in-channels, K out-channels, H x W image (every branch keeps it).
///
///     fig. 2b (Inception, "with dimension reductions"):
///       branch1: 1x1 (C -> ch1x1)
///       branch2: 1x1 (C -> ch3x3red) -> 3x3 (-> ch3x3), padding 1
///       branch3: 1x1 (C -> ch5x5red) -> 5x5 (-> ch5x5), padding 2
///       branch4: 3x3 max-pool, stride 1, padding 1 -> 1x1 (C -> pool_proj)
///       y = cat(branch1, branch2, branch3, branch4)     K = ch1x1 + ch3x3 + ch5x5 + pool_proj
///     fig. 2a (the naive block): 1x1, 3x3, 5x5 straight on x, and the max-pool alone;
///       K = ch1x1 + ch3x3 + ch5x5 + C
/// Every convolution is followed by BatchNorm and ReLU (torchvision's BasicConv2d); the 2015
/// network had no BatchNorm, which came out the same year (Ioffe & Szegedy).
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief Conv2d (no bias) -> BatchNorm2d -> ReLU, padding kernel / 2 so H x W is kept:
/// torchvision's `BasicConv2d`, with its parameter names `conv.weight`, `bn.weight`, ...
class BasicConv2d : public Module {
 public:
  /// @brief A `kernel` x `kernel` convolution from `in_channels` to `out_channels`.
  /// @param in_channels   C
  /// @param out_channels  K
  /// @param kernel        the side of the square kernel, odd
  /// @param bn_eps        BatchNorm's eps; torchvision's GoogLeNet uses 0.001
  /// @throws Error when a size is 0 or the kernel is even (the padding could not keep H x W).
  BasicConv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
              double bn_eps = 1e-3);
  /// @brief relu(bn(conv(x))).
  Tensor forward(const Tensor& x) override;
  /// @brief The three steps' backward in reverse order.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "BasicConv2d(192, 64, kernel_size=1)".
  std::string repr() const override;

  Conv2d conv;     ///< kernel x kernel, padding kernel / 2, no bias (BN has one)
  BatchNorm2d bn;  ///< over out_channels
  ReLU relu;       ///< after bn
};

/// @brief Runs every branch on the same input and concatenates their outputs along the
/// channels; backward cuts dy into the branches' parts and sums the branches' dx.
///
/// The shared routing of Inception and InceptionNaive. The branches are children registered
/// by the derived class (add_branch); they must keep H x W.
class ParallelConcat : public Module {
 public:
  /// @brief y = cat(branch_0(x), branch_1(x), ...) along the channels.
  /// @throws Error when x does not have in_channels() channels, or the branches' outputs
  ///   differ in H x W.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = sum over branches of branch_i.backward(dy_i), dy_i its channels of dy.
  /// @throws Error when dy does not have the last forward output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief C, the channels every branch reads.
  std::size_t in_channels() const { return in_channels_; }

 protected:
  /// @brief A block whose branches read `in_channels` channels.
  explicit ParallelConcat(std::size_t in_channels) : in_channels_(in_channels) {}
  /// @brief Registers `branch` under `name` and appends it to the concatenation order.
  void add_branch(const std::string& name, Module* branch);

 private:
  std::size_t in_channels_;
  std::vector<Module*> branches_;
  std::vector<std::size_t> branch_channels_;  // of the last forward: where backward cuts dy
  Shape out_shape_{};
};

/// @brief The widths of an Inception block, written like libtorch's options and named like
/// the columns of the paper's Table 1 (and torchvision's Inception arguments):
/// `InceptionOptions(192).ch1x1(64).ch3x3red(96).ch3x3(128).ch5x5red(16).ch5x5(32).pool_proj(32)`
/// is inception (3a).
class InceptionOptions {
 public:
  /// @brief A block reading `in_channels` (C) channels; every width must then be set.
  explicit InceptionOptions(std::size_t in_channels) : in_(in_channels) {}

  std::size_t in_channels() const { return in_; }  ///< C
  /// @brief Sets the width of branch 1, the lone 1x1.
  InceptionOptions& ch1x1(std::size_t v) {
    ch1x1_ = v;
    return *this;
  }
  std::size_t ch1x1() const { return ch1x1_; }  ///< branch 1's width
  /// @brief Sets the width of the 1x1 reduction before the 3x3 ("#3x3 reduce").
  InceptionOptions& ch3x3red(std::size_t v) {
    ch3x3red_ = v;
    return *this;
  }
  std::size_t ch3x3red() const { return ch3x3red_; }  ///< branch 2's reduction
  /// @brief Sets the output width of the 3x3.
  InceptionOptions& ch3x3(std::size_t v) {
    ch3x3_ = v;
    return *this;
  }
  std::size_t ch3x3() const { return ch3x3_; }  ///< branch 2's width
  /// @brief Sets the width of the 1x1 reduction before the 5x5 ("#5x5 reduce").
  InceptionOptions& ch5x5red(std::size_t v) {
    ch5x5red_ = v;
    return *this;
  }
  std::size_t ch5x5red() const { return ch5x5red_; }  ///< branch 3's reduction
  /// @brief Sets the output width of the 5x5.
  InceptionOptions& ch5x5(std::size_t v) {
    ch5x5_ = v;
    return *this;
  }
  std::size_t ch5x5() const { return ch5x5_; }  ///< branch 3's width
  /// @brief Sets the width of the 1x1 projection after the max-pool ("pool proj").
  InceptionOptions& pool_proj(std::size_t v) {
    pool_proj_ = v;
    return *this;
  }
  std::size_t pool_proj() const { return pool_proj_; }  ///< branch 4's width

  /// @brief K of fig. 2b: ch1x1 + ch3x3 + ch5x5 + pool_proj.
  std::size_t out_channels() const { return ch1x1_ + ch3x3_ + ch5x5_ + pool_proj_; }
  /// @brief K of fig. 2a, where the pooled input is concatenated as it is:
  /// ch1x1 + ch3x3 + ch5x5 + in_channels.
  std::size_t naive_out_channels() const { return ch1x1_ + ch3x3_ + ch5x5_ + in_; }

  /// @brief Checks the widths. `reductions` false checks only what fig. 2a uses (C, ch1x1,
  /// ch3x3, ch5x5).
  /// @throws Error naming the first width that is 0 and the block's widths.
  void validate(bool reductions = true) const;

 private:
  std::size_t in_;
  std::size_t ch1x1_ = 0, ch3x3red_ = 0, ch3x3_ = 0, ch5x5red_ = 0, ch5x5_ = 0, pool_proj_ = 0;
};

/// @brief The Inception block "with dimension reductions" (fig. 2b).
///
/// Parameters as torchvision's `Inception`: `branch1.conv.weight`, `branch1.bn.*`,
/// `branch2.0.*` (the 1x1 reduction) and `branch2.1.*` (the 3x3), `branch3.0.*` and
/// `branch3.1.*` (the 5x5; torchvision's own GoogLeNet has a 3x3 there, a known slip kept for
/// its pretrained weights), `branch4.1.*` (the pool projection; `branch4.0` is the pool).
class Inception : public ParallelConcat {
 private:
  InceptionOptions options_;  // first: validated before the branches are built from it

 public:
  /// @throws Error on invalid options (see InceptionOptions::validate).
  explicit Inception(const InceptionOptions& options);
  /// @brief e.g. "Inception(192, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32,
  /// pool_proj=32)".
  std::string repr() const override;
  /// @brief The options this block was built with.
  const InceptionOptions& options() const { return options_; }

  BasicConv2d branch1;  ///< 1x1, C -> ch1x1
  Sequential branch2;   ///< 1x1 C -> ch3x3red, then 3x3 -> ch3x3
  Sequential branch3;   ///< 1x1 C -> ch5x5red, then 5x5 -> ch5x5
  Sequential branch4;   ///< 3x3 max-pool (stride 1, padding 1), then 1x1 C -> pool_proj
};

/// @brief The naive Inception block (fig. 2a): 1x1, 3x3 and 5x5 convolutions straight on the
/// C input channels, and the 3x3 max-pool, whose C channels are concatenated as they are.
///
/// Built from the same InceptionOptions as Inception (the reductions and pool_proj are
/// ignored), so the two can be costed side by side. Parameters: `branch1.*`, `branch2.*`
/// (3x3), `branch3.*` (5x5), each a BasicConv2d; `branch4` is the pool, without parameters.
class InceptionNaive : public ParallelConcat {
 private:
  InceptionOptions options_;

 public:
  /// @throws Error when C, ch1x1, ch3x3 or ch5x5 is 0.
  explicit InceptionNaive(const InceptionOptions& options);
  /// @brief e.g. "InceptionNaive(192, ch1x1=64, ch3x3=128, ch5x5=32)".
  std::string repr() const override;

  BasicConv2d branch1;  ///< 1x1, C -> ch1x1
  BasicConv2d branch2;  ///< 3x3, C -> ch3x3
  BasicConv2d branch3;  ///< 5x5, C -> ch5x5
  MaxPool2d branch4;    ///< 3x3, stride 1, padding 1: C -> C channels
};

}  // namespace convbook
