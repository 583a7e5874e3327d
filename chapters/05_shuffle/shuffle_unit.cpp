#include "chapters/05_shuffle/shuffle_unit.hpp"

#include <utility>
#include <vector>

#include "convbook/error.hpp"

namespace convbook {

void ShuffleUnitOptions::validate() const {
  const std::string where = "ShuffleUnit(" + std::to_string(in_) + ", " + std::to_string(out_) +
                            ", stride=" + std::to_string(stride_) +
                            ", groups=" + std::to_string(groups_) + "): ";
  if (in_ == 0 || out_ == 0) throw Error(where + "channel counts must be at least 1");
  if (groups_ == 0) throw Error(where + "groups=0, expected at least 1");
  if (stride_ != 1 && stride_ != 2) {
    throw Error(where + "stride=" + std::to_string(stride_) +
                ", expected 1 (residual sum) or 2 (avg-pool shortcut and concat)");
  }
  if (stride_ == 1 && in_ != out_) {
    throw Error(where + "a stride-1 unit adds its input to its output, so in_channels=" +
                std::to_string(in_) + " must equal out_channels=" + std::to_string(out_));
  }
  if (stride_ == 2 && out_ <= in_) {
    throw Error(where + "a stride-2 unit concatenates the pooled input (" + std::to_string(in_) +
                " channels) with the main path, so out_channels=" + std::to_string(out_) +
                " must be larger than in_channels=" + std::to_string(in_));
  }
  const std::size_t M = mid_channels(), Km = main_channels();
  if (M == 0) {
    throw Error(where +
                "the bottleneck has 0 channels (out_channels / 4 = 0); give "
                "mid_channels or more out_channels");
  }
  auto must_divide = [&](std::size_t v, const std::string& what) {
    if (v % groups_ != 0) {
      throw Error(where + "groups=" + std::to_string(groups_) + " must divide " + what + "=" +
                  std::to_string(v));
    }
  };
  if (group_first_) must_divide(in_, "in_channels (conv1 is grouped)");
  must_divide(M, "the bottleneck mid_channels");
  must_divide(Km, "the main path's output channels (out_channels" +
                      std::string(stride_ == 2 ? " - in_channels)" : ")"));
}

namespace {
const ShuffleUnitOptions& validated(const ShuffleUnitOptions& o) {
  o.validate();
  return o;
}
}  // namespace

ShuffleUnit::ShuffleUnit(const ShuffleUnitOptions& options)
    : options_(validated(options)),
      conv1(Conv2dOptions(options.in_channels(), options.mid_channels(), 1)
                .groups(options.group_first_conv() ? options.groups() : 1)
                .bias(false)),
      bn1(options.mid_channels()),
      shuffle(options.shuffle() ? options.groups() : 1),
      conv2(Conv2dOptions(options.mid_channels(), options.mid_channels(), 3)
                .stride(options.stride())
                .padding(1)
                .groups(options.mid_channels())
                .bias(false)),
      bn2(options.mid_channels()),
      conv3(Conv2dOptions(options.mid_channels(), options.main_channels(), 1)
                .groups(options.groups())
                .bias(false)),
      bn3(options.main_channels()),
      shortcut_pool(3, 2, 1) {
  // state_dict order as the PyTorch module: conv1, bn1, conv2, bn2, conv3, bn3.
  register_module("conv1", &conv1);
  register_module("bn1", &bn1);
  register_module("relu1", &relu1);
  register_module("shuffle", &shuffle);
  register_module("conv2", &conv2);
  register_module("bn2", &bn2);
  register_module("conv3", &conv3);
  register_module("bn3", &bn3);
  if (options.stride() == 2) register_module("shortcut", &shortcut_pool);
  register_module("relu_out", &relu_out);
}

//! [unit-forward]
Tensor ShuffleUnit::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (s[1] != options_.in_channels()) {
    throw Error(repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(options_.in_channels()));
  }
  // main path: pointwise group conv, shuffle, depthwise, pointwise group conv
  Tensor h = relu1.forward(bn1.forward(conv1.forward(x)));
  h = shuffle.forward(h);  // channel k G + gi <- gi M/G + k: every group now holds all groups
  h = bn2.forward(conv2.forward(h));  // depthwise 3x3, stride 1 or 2; no ReLU (the paper's)
  h = bn3.forward(conv3.forward(h));
  // shortcut, then merge
  Tensor merged;
  if (options_.stride() == 1) {
    merged = h + x;  // fig. 2b: identity, sum
  } else {
    const Tensor pooled = shortcut_pool.forward(x);
    merged = concat_channels({&pooled, &h});  // fig. 2c: pooled input, then the main path
  }
  in_shape_ = s;
  out_shape_ = shape_of(merged);
  return relu_out.forward(merged);
}
//! [unit-forward]

//! [unit-backward]
Tensor ShuffleUnit::backward(const Tensor& dy) {
  if (shape_of(dy) != out_shape_ || numel(out_shape_) == 0) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  const Tensor dmerged = relu_out.backward(dy);
  // Merge, backwards. A sum copies its gradient to both addends; a concat cuts it by channel.
  Tensor dmain, dx_shortcut;
  if (options_.stride() == 1) {
    dmain = dmerged;
    dx_shortcut = dmerged;  // the identity shortcut passes it through unchanged
  } else {
    std::vector<Tensor> parts =
        split_channels(dmerged, {options_.in_channels(), options_.main_channels()});
    dx_shortcut = shortcut_pool.backward(parts[0]);
    dmain = std::move(parts[1]);
  }
  // Main path, the forward's steps in reverse order.
  Tensor dh = conv3.backward(bn3.backward(dmain));
  dh = conv2.backward(bn2.backward(dh));
  dh = shuffle.backward(dh);  // the inverse permutation
  dh = conv1.backward(bn1.backward(relu1.backward(dh)));
  // x fed both paths, so its gradient is the sum of what each path sends back.
  return Tensor(dh + dx_shortcut);
}
//! [unit-backward]

std::string ShuffleUnit::repr() const {
  const ShuffleUnitOptions& o = options_;
  std::string r = "ShuffleUnit(" + std::to_string(o.in_channels()) + ", " +
                  std::to_string(o.out_channels()) + ", stride=" + std::to_string(o.stride()) +
                  ", groups=" + std::to_string(o.groups()) +
                  ", mid_channels=" + std::to_string(o.mid_channels());
  if (!o.group_first_conv()) r += ", group_first_conv=False";
  if (!o.shuffle()) r += ", shuffle=False";
  return r + ")";
}

}  // namespace convbook
