#include "chapters/11_resnext/resnext_forms.hpp"

#include <algorithm>
#include <utility>

#include "convbook/error.hpp"

namespace convbook {

std::string ResNeXtBlockOptions::repr(const std::string& name) const {
  return name + "(" + std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", " +
         std::to_string(cardinality) + "x" + std::to_string(bottleneck_width) +
         "d, stride=" + std::to_string(stride) + ")";
}

void ResNeXtBlockOptions::validate() const {
  const std::pair<const char*, std::size_t> sizes[] = {{"in_channels", in_channels},
                                                       {"out_channels", out_channels},
                                                       {"cardinality", cardinality},
                                                       {"bottleneck_width", bottleneck_width},
                                                       {"stride", stride}};
  for (const auto& [name, value] : sizes) {
    if (value == 0) throw Error(repr() + ": " + name + "=0, expected at least 1");
  }
}

namespace {

ModulePtr shortcut_of(const ResNeXtBlockOptions& o) {
  o.validate();  // the first thing a block builds: every size is checked before any layer
  return o.projects() ? projection_shortcut(o.in_channels, o.out_channels, o.stride) : nullptr;
}

// G paths; each ends with its own 1x1 to `out` channels when out > 0 (form a).
std::vector<std::unique_ptr<ResNeXtPath>> make_paths(const ResNeXtBlockOptions& o,
                                                     std::size_t out) {
  std::vector<std::unique_ptr<ResNeXtPath>> paths;
  for (std::size_t g = 0; g < o.cardinality; ++g) {
    paths.push_back(
        std::make_unique<ResNeXtPath>(o.in_channels, o.bottleneck_width, o.stride, out));
  }
  return paths;
}

}  // namespace

ResNeXtPath::ResNeXtPath(std::size_t in_channels, std::size_t width, std::size_t stride,
                         std::size_t out_channels)
    : conv1(conv1x1(in_channels, width)),
      bn1(width),
      conv2(conv3x3(width, width, stride)),
      bn2(width),
      conv3(out_channels > 0 ? std::make_unique<Conv2d>(conv1x1(width, out_channels)) : nullptr),
      in_(in_channels),
      width_(width),
      stride_(stride),
      out_(out_channels) {
  register_module("conv1", &conv1);
  register_module("bn1", &bn1);
  register_module("conv2", &conv2);
  register_module("bn2", &bn2);
  if (conv3) register_module("conv3", conv3.get());
}

//! [path]
Tensor ResNeXtPath::forward(const Tensor& x) {
  Tensor h = relu1.forward(bn1.forward(conv1.forward(x)));  // split: 1x1 embeds x in d channels
  h = relu2.forward(bn2.forward(conv2.forward(h)));         // transform: 3x3 on those d
  return conv3 ? conv3->forward(h) : h;                     // form (a): 1x1 back to K
}

Tensor ResNeXtPath::backward(const Tensor& dy) {
  Tensor dh = conv3 ? conv3->backward(dy) : dy;
  dh = conv2.backward(bn2.backward(relu2.backward(dh)));
  return conv1.backward(bn1.backward(relu1.backward(dh)));
}
//! [path]

std::string ResNeXtPath::repr() const {
  return "ResNeXtPath(" + std::to_string(in_) + ", " + std::to_string(width_) +
         ", stride=" + std::to_string(stride_) +
         (out_ > 0 ? ", out=" + std::to_string(out_) : std::string()) + ")";
}

void ParallelSum::add_branch(const std::string& name, Module* branch) {
  register_module(name, branch);
  branches_.push_back(branch);
}

//! [parallel-sum]
Tensor ParallelSum::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (branches_.empty() || s[1] != in_channels_) {
    throw Error(repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(in_channels_) + " and at least 1 branch");
  }
  Tensor y = branches_[0]->forward(x);  // every branch reads the same x
  for (std::size_t i = 1; i < branches_.size(); ++i) {
    const Tensor yi = branches_[i]->forward(x);
    if (shape_of(yi) != shape_of(y)) {
      throw Error(repr() + ": branch " + std::to_string(i) + " gives " + to_string(shape_of(yi)) +
                  ", branch 0 gives " + to_string(shape_of(y)) + "; a sum needs one shape");
    }
    add_into(y, yi);
  }
  out_shape_ = shape_of(y);
  return y;
}

Tensor ParallelSum::backward(const Tensor& dy) {
  if (numel(out_shape_) == 0 || shape_of(dy) != out_shape_) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  // d(y_0 + y_1 + ...)/dy_i = I: every branch receives dy itself, not a share of it. x fed
  // every branch, so dL/dx is the sum of what they send back.
  Tensor dx = branches_[0]->backward(dy);
  for (std::size_t i = 1; i < branches_.size(); ++i) dx += branches_[i]->backward(dy);
  return dx;
}
//! [parallel-sum]

std::string ParallelSum::repr() const {
  return "ParallelSum(" + std::to_string(branches_.size()) + " branches)";
}

PathConcat::PathConcat(std::size_t in_channels,
                       const std::vector<std::unique_ptr<ResNeXtPath>>& paths)
    : ParallelConcat(in_channels), count_(paths.size()) {
  for (std::size_t g = 0; g < paths.size(); ++g) add_branch(std::to_string(g), paths[g].get());
}

std::string PathConcat::repr() const {
  return "PathConcat(" + std::to_string(count_) + " paths)";
}

ResNeXtBlockA::ResNeXtBlockA(const ResNeXtBlockOptions& options)
    : ResidualBlock(shortcut_of(options)),
      options_(options),
      owned_(make_paths(options, options.out_channels)),
      paths(options.in_channels),
      bn3(options.out_channels) {
  for (std::size_t g = 0; g < owned_.size(); ++g) paths.add_branch(std::to_string(g), &path(g));
  register_module("paths", &paths);
  register_module("bn3", &bn3);
  register_downsample();
}

//! [form-a]
Tensor ResNeXtBlockA::residual_forward(const Tensor& x) {
  return bn3.forward(paths.forward(x));  // sum_g T_g(x), one BN after the merge
}

Tensor ResNeXtBlockA::residual_backward(const Tensor& d) {
  return paths.backward(bn3.backward(d));
}
//! [form-a]

std::string ResNeXtBlockA::repr() const {
  return options_.repr("ResNeXtBlockA");
}

ResNeXtBlockB::ResNeXtBlockB(const ResNeXtBlockOptions& options)
    : ResidualBlock(shortcut_of(options)),
      options_(options),
      owned_(make_paths(options, 0)),
      paths(options.in_channels, owned_),
      conv3(conv1x1(options.width(), options.out_channels)),
      bn3(options.out_channels) {
  register_module("paths", &paths);
  register_module("conv3", &conv3);
  register_module("bn3", &bn3);
  register_downsample();
}

//! [form-b]
Tensor ResNeXtBlockB::residual_forward(const Tensor& x) {
  return bn3.forward(conv3.forward(paths.forward(x)));  // concatenate, then one 1x1
}

Tensor ResNeXtBlockB::residual_backward(const Tensor& d) {
  return paths.backward(conv3.backward(bn3.backward(d)));
}
//! [form-b]

std::string ResNeXtBlockB::repr() const {
  return options_.repr("ResNeXtBlockB");
}

std::unique_ptr<Bottleneck> resnext_bottleneck(const ResNeXtBlockOptions& o) {
  ModulePtr shortcut = shortcut_of(o);
  const std::size_t planes = o.out_channels / Bottleneck::expansion;
  if (o.out_channels % Bottleneck::expansion != 0) {
    throw Error(o.repr() + ": out_channels=" + std::to_string(o.out_channels) +
                " is not a multiple of Bottleneck::expansion=4 (form (c) is chapter 10's "
                "Bottleneck, whose output is 4 planes)");
  }
  if (64 * o.bottleneck_width % planes != 0) {
    throw Error(o.repr() + ": 64 * bottleneck_width=" + std::to_string(64 * o.bottleneck_width) +
                " is not a multiple of planes=" + std::to_string(planes) +
                ", so no base_width gives d channels per group");
  }
  const std::size_t base_width = 64 * o.bottleneck_width / planes;
  return std::make_unique<Bottleneck>(o.in_channels, planes, o.stride, std::move(shortcut),
                                      o.cardinality, base_width);
}

ModulePtr resnext_block(ResNeXtForm form, const ResNeXtBlockOptions& options) {
  switch (form) {
    case ResNeXtForm::A:
      return std::make_unique<ResNeXtBlockA>(options);
    case ResNeXtForm::B:
      return std::make_unique<ResNeXtBlockB>(options);
    case ResNeXtForm::C:
      break;
  }
  return resnext_bottleneck(options);
}

namespace {

// to = from[begin : begin + n] along dimension `dim` (0: output channels, 1: input channels),
// n being to's size along it; values, and gradients when both have them.
void copy_slice(const Parameter& from, std::size_t dim, std::size_t begin, Parameter& to) {
  const auto& s = from.value.shape();
  const auto& t = to.value.shape();
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < dim; ++i) outer *= s[i];
  for (std::size_t i = dim + 1; i < 4; ++i) inner *= s[i];
  if (outer * t[dim] * inner != to.numel() || begin + t[dim] > s[dim]) {
    throw Error("grouped_to_paths: cannot copy a slice of " + to_string(shape_of(from.value)) +
                " into " + to_string(shape_of(to.value)));
  }
  const std::size_t n = t[dim] * inner;  // contiguous run per outer index
  auto copy = [&](const Tensor& a, Tensor& b) {
    for (std::size_t o = 0; o < outer; ++o) {
      const Scalar* src = a.data() + (o * s[dim] + begin) * inner;
      std::copy(src, src + n, b.data() + o * n);
    }
  };
  copy(from.value, to.value);
  if (from.grad.size() == from.value.size() && to.grad.size() == to.value.size())
    copy(from.grad, to.grad);
}

void copy_whole(const Parameter& from, Parameter& to) {
  copy_slice(from, 0, 0, to);
}

// Every parameter and buffer of `from` into `to`, which must have the same names and sizes.
void copy_module(Module& from, Module& to) {
  std::vector<std::pair<std::string, Parameter*>> a, b;
  from.visit_parameters([&](const std::string& n, Parameter& p) { a.emplace_back(n, &p); });
  to.visit_parameters([&](const std::string& n, Parameter& p) { b.emplace_back(n, &p); });
  if (a.size() != b.size()) {
    throw Error("grouped_to_paths: " + from.repr() + " and " + to.repr() + " differ in layout");
  }
  for (std::size_t i = 0; i < a.size(); ++i) copy_whole(*a[i].second, *b[i].second);
}

// Path g's rows of a BatchNorm over G d channels: gamma, beta and the running statistics.
void copy_bn_slice(BatchNorm2d& from, std::size_t begin, BatchNorm2d& to) {
  copy_slice(from.weight, 0, begin, to.weight);
  copy_slice(from.bias, 0, begin, to.bias);
  copy_slice(from.running_mean, 0, begin, to.running_mean);
  copy_slice(from.running_var, 0, begin, to.running_var);
}

void check_same_block(const Bottleneck& c, const ResNeXtBlockOptions& o, const std::string& form) {
  const Conv2dOptions& g = c.conv2.options();
  if (g.groups() != o.cardinality || g.out_channels() != o.width() ||
      c.conv1.options().in_channels() != o.in_channels ||
      c.conv3.options().out_channels() != o.out_channels || g.stride() != Pair(o.stride) ||
      (c.downsample() != nullptr) != o.projects()) {
    throw Error("grouped_to_paths: " + c.repr() + " has groups=" + std::to_string(g.groups()) +
                " and width=" + std::to_string(g.out_channels()) + ", expected the block of " +
                o.repr(form) + " (cardinality " + std::to_string(o.cardinality) + ", width " +
                std::to_string(o.width()) + ")");
  }
}

// What forms (a) and (b) share: path g's 1x1 in and 3x3 are group g of form (c)'s.
//! [grouped-to-paths]
void copy_split_transform(Bottleneck& c, std::size_t g, std::size_t d, ResNeXtPath& path) {
  copy_slice(c.conv1.weight, 0, g * d, path.conv1.weight);  // output channels g d .. g d + d
  copy_bn_slice(c.bn1, g * d, path.bn1);                    // BN is per channel: a slice is a BN
  copy_slice(c.conv2.weight, 0, g * d, path.conv2.weight);  // group g: (d, d, 3, 3)
  copy_bn_slice(c.bn2, g * d, path.bn2);
}
//! [grouped-to-paths]

}  // namespace

void grouped_to_paths(Bottleneck& c, ResNeXtBlockA& a) {
  const ResNeXtBlockOptions& o = a.options();
  check_same_block(c, o, "ResNeXtBlockA");
  for (std::size_t g = 0; g < o.cardinality; ++g) {
    copy_split_transform(c, g, o.bottleneck_width, a.path(g));
    // conv3 (K, G d) applied to the concatenation = sum over g of its columns g d .. g d + d
    // applied to path g's output: the merge by sum is a 1x1 after a concat.
    copy_slice(c.conv3.weight, 1, g * o.bottleneck_width, a.path(g).conv3->weight);
  }
  copy_module(c.bn3, a.bn3);
  if (c.downsample()) copy_module(*c.downsample(), *a.downsample());
}

void grouped_to_paths(Bottleneck& c, ResNeXtBlockB& b) {
  const ResNeXtBlockOptions& o = b.options();
  check_same_block(c, o, "ResNeXtBlockB");
  for (std::size_t g = 0; g < o.cardinality; ++g)
    copy_split_transform(c, g, o.bottleneck_width, b.path(g));
  copy_module(c.conv3, b.conv3);
  copy_module(c.bn3, b.bn3);
  if (c.downsample()) copy_module(*c.downsample(), *b.downsample());
}

}  // namespace convbook
