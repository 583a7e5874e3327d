// Chapter 12 demo: the variance shift of dropout in front of BatchNorm (Li et al. 2019),
// measured against its closed form.
//
//   ch12_demo_variance_shift [CHECKPOINT [DATA_DIR]]
//
// Dropout with keep-scaling changes the variance of what it feeds in training but not in
// evaluation; a BatchNorm behind it learns running statistics of the training-time variance
// and then normalizes eval-time activations with them. For each BatchNorm input z this prints
// Var_train(z) / Var_eval(z), per channel over (N, H, W), averaged over the channels, and the
// prediction
//
//     Var_train(z) / Var_eval(z) = 1 + p / (1 - p) * E[conv_{w^2}(x^2)] / Var_eval(z)
//
// for z = conv_w(dropout(x)) (w = 1 and no conv: dropout right before BN), derived in
// book/12_wide_resnet.md.
//
// Part 1, random data: x = ReLU(N(0, 1)) of shape (64, 32, 16, 16); dropout directly in front
// of BN, dropout - conv3x3 - BN (WRN's place: after the ReLU, in front of conv1), the same with
// channels of x that are strongly correlated and non-negative weights (the cross terms of
// Var_eval grow, the shift shrinks), and BN - ReLU - dropout (after BN: the BN's input has no
// dropout upstream) for p = 0.1, 0.3, 0.5.
// Part 2, when CHECKPOINT is given: a WRN-16-4 with dropout 0.3 trained by
// `convbook train --model wrn16_4_drop0.3` (its checkpoint.safetensors), on DATA_DIR's test
// images (default: as `convbook train` finds CIFAR-10). The whole network runs in eval mode
// (BatchNorms use their running statistics), once with every dropout off and once with every
// dropout on; for each BatchNorm input the table gives the measured ratio, the ratio with only
// the nearest dropout on (the previous block's, through its conv1, on the dropout-free input),
// its prediction, and running_var / Var_eval: how far off the statistics that BN normalizes
// with at test time are.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xmath.hpp>

#include "chapters/12_wide_resnet/wide_resnet.hpp"
#include "convbook/data/augment.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

// Per-channel mean and variance over (N, H, W), accumulated over batches in double.
struct ChannelStats {
  std::vector<double> sum, sum_sq;
  double count = 0;

  void add(const Tensor& t) {
    const Shape s = shape_of(t);
    sum.resize(s[1], 0.0);
    sum_sq.resize(s[1], 0.0);
    for (std::size_t n = 0; n < s[0]; ++n)
      for (std::size_t c = 0; c < s[1]; ++c)
        for (std::size_t h = 0; h < s[2]; ++h)
          for (std::size_t w = 0; w < s[3]; ++w) {
            const double v = t(n, c, h, w);
            sum[c] += v;
            sum_sq[c] += v * v;
          }
    count += double(s[0] * s[2] * s[3]);
  }
  double mean(std::size_t c) const { return sum[c] / count; }
  double var(std::size_t c) const { return sum_sq[c] / count - mean(c) * mean(c); }
  std::size_t channels() const { return sum.size(); }
};

// The mean over channels of a / b, channel by channel.
double mean_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  double r = 0;
  for (std::size_t c = 0; c < a.size(); ++c) r += a[c] / b[c];
  return r / double(a.size());
}

std::vector<double> variances(const ChannelStats& s) {
  std::vector<double> v(s.channels());
  for (std::size_t c = 0; c < v.size(); ++c) v[c] = s.var(c);
  return v;
}

//! [variance-shift-theory]
// Var_train(z) - Var_eval(z) per channel for z = conv_w(dropout(x)): the mask m of dropout is
// independent of x with E[m] = 1, so z_train = z_eval + e with E[e | x] = 0 and
// E[e^2 | x] = p / (1 - p) * sum_i w_i^2 x_i^2: a convolution with the squared weights applied
// to x^2. `conv` null: no convolution (w = 1, z = dropout(x)).
std::vector<double> predicted_excess(const Tensor& x, const Conv2d* conv, double p) {
  Tensor x2 = x * x;
  if (conv != nullptr) {
    Conv2d squared(conv->options());
    squared.weight.value = conv->weight.value * conv->weight.value;
    squared.eval();
    x2 = squared.forward(x2);
  }
  ChannelStats s;
  s.add(x2);
  std::vector<double> excess(s.channels());
  for (std::size_t c = 0; c < excess.size(); ++c) excess[c] = p / (1 - p) * s.mean(c);
  return excess;
}
//! [variance-shift-theory]

// 1 + excess / Var_eval, averaged over channels.
double predicted_ratio(const std::vector<double>& excess, const std::vector<double>& var_eval) {
  double r = 0;
  for (std::size_t c = 0; c < excess.size(); ++c) r += 1 + excess[c] / var_eval[c];
  return r / double(excess.size());
}

// x = ReLU(g), g ~ N(0, 1) independent per value; or, `correlated`, g = s + 0.3 n with s shared
// by all channels of a pixel (so the channels a conv tap sums are strongly correlated).
Tensor relu_noise(const Shape& shape, std::uint64_t seed, bool correlated) {
  Rng rng(seed);
  Tensor x = zeros(shape);
  for (std::size_t n = 0; n < shape[0]; ++n)
    for (std::size_t h = 0; h < shape[2]; ++h)
      for (std::size_t w = 0; w < shape[3]; ++w) {
        const double shared = rng.normal();
        for (std::size_t c = 0; c < shape[1]; ++c) {
          const double g = correlated ? shared + 0.3 * rng.normal() : rng.normal();
          x(n, c, h, w) = Scalar(std::max(0.0, g));
        }
      }
  return x;
}

void random_data_table() {
  std::printf(
      "Part 1: x = ReLU(N(0, 1)), (64, 32, 16, 16), 4 batches; ratio = Var_train / Var_eval "
      "of the BN input, mean over 32 channels\n\n");
  std::printf("| placement | p | Var_train | Var_eval | ratio measured | ratio predicted |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const Shape shape{64, 32, 16, 16};
  manual_seed(12);
  Conv2d conv(Conv2dOptions(32, 32, 3).padding(1).bias(false));  // kaiming init
  Conv2d positive(conv.options());                               // the same weights' |w|
  positive.weight.value = xt::abs(conv.weight.value);
  struct Placement {
    std::string name;
    Conv2d* conv;     // between dropout and BN, or null
    bool after_bn;    // dropout behind the BN: the BN's input has none upstream
    bool correlated;  // x's channels correlated (relu_noise)
  };
  const Placement placements[] = {
      {"dropout -> BN", nullptr, false, false},
      {"dropout -> conv3x3 -> BN (WRN)", &conv, false, false},
      {"dropout -> conv3x3 -> BN, correlated x, w >= 0", &positive, false, true},
      {"BN -> ReLU -> dropout", nullptr, true, false},
  };
  for (const double p : {0.1, 0.3, 0.5}) {
    Dropout dropout(p);
    for (const Placement& pl : placements) {
      ChannelStats train, eval;
      std::vector<double> excess;
      for (std::uint64_t batch = 0; batch < 4; ++batch) {
        const Tensor x = relu_noise(shape, 100 + batch, pl.correlated);
        // What enters the BN: with dropout after BN, the BN sees x itself in both modes.
        auto bn_input = [&](bool dropout_on) {
          if (pl.after_bn) return Tensor(x);
          dropout.train(dropout_on);
          const Tensor d = dropout.forward(x);
          return pl.conv ? Tensor(pl.conv->forward(d)) : d;
        };
        train.add(bn_input(true));
        eval.add(bn_input(false));
        const std::vector<double> e = predicted_excess(x, pl.conv, p);
        if (excess.empty()) excess.assign(e.size(), 0.0);
        for (std::size_t c = 0; c < e.size(); ++c)
          excess[c] += pl.after_bn ? 0.0 : e[c] / 4;  // after BN: nothing to predict
      }
      const std::vector<double> vt = variances(train), ve = variances(eval);
      double mt = 0, me = 0;
      for (std::size_t c = 0; c < vt.size(); ++c) {
        mt += vt[c] / double(vt.size());
        me += ve[c] / double(ve.size());
      }
      std::printf("| %s | %.1f | %.4f | %.4f | %.4f | %.4f |\n", pl.name.c_str(), p, mt, me,
                  mean_ratio(vt, ve), predicted_ratio(excess, ve));
    }
  }
  std::printf("\n");
}

// Every WideBasic of a WRN, in order, with its state_dict prefix.
std::vector<std::pair<std::string, WideBasic*>> blocks_of(Sequential& net) {
  std::vector<std::pair<std::string, WideBasic*>> blocks;
  for (const auto& [name, child] : net.children())
    if (auto* group = dynamic_cast<Sequential*>(child))
      for (const auto& [block_name, block] : group->children())
        blocks.emplace_back(name + "." + block_name, &dynamic_cast<WideBasic&>(*block));
  return blocks;
}

// The input of a block's dropout, recomputed from the block's input (eval mode).
Tensor dropout_input(WideBasic& b, const Tensor& x) {
  return b.relu1.forward(b.bn1.forward(b.conv0.forward(b.relu0.forward(b.bn0.forward(x)))));
}

void trained_model_table(const std::string& checkpoint, const std::string& data_flag) {
  const double p = 0.3;
  ModulePtr model = wide_resnet(16, 4, p);
  load_checkpoint(checkpoint, *model);
  auto& net = dynamic_cast<Sequential&>(*model);
  const auto blocks = blocks_of(net);
  auto& final_bn = dynamic_cast<BatchNorm2d&>(net[4]);
  const CifarData data = load_cifar10(data_flag);
  const std::size_t batch = 50, images = std::min<std::size_t>(data.test.size(), 500);
  std::printf(
      "Part 2: WRN-16-4, dropout %.1f, %s; the first %zu test images of %s; whole "
      "network in eval mode, dropouts off vs on\n\n",
      p, checkpoint.c_str(), images, data.dir.c_str());

  // The BN inputs: bn0 of every block (the block's input), then the final bn.
  const std::size_t points = blocks.size() + 1;
  std::vector<ChannelStats> on(points), off(points), nearest(points);
  std::vector<std::vector<double>> excess(points);
  model->eval();
  for (std::size_t first = 0; first + batch <= images; first += batch) {
    const Tensor input = normalized_batch(data.test, first, batch);
    for (const bool dropout_on : {false, true}) {
      for (const auto& [name, b] : blocks) b->dropout.train(dropout_on);
      Tensor x = net[0].forward(input);  // conv0
      for (std::size_t i = 0; i < blocks.size(); ++i) {
        (dropout_on ? on : off)[i].add(x);
        WideBasic& b = *blocks[i].second;
        if (!dropout_on) {  // the nearest dropout reaches the next BN through this conv1
          const std::vector<double> e = predicted_excess(dropout_input(b, x), &b.conv1, p);
          excess[i + 1].resize(e.size(), 0.0);
          for (std::size_t c = 0; c < e.size(); ++c) excess[i + 1][c] += e[c] * batch / images;
          b.dropout.train(true);  // this block's dropout alone, on the dropout-free input
          nearest[i + 1].add(b.forward(x));
          b.dropout.train(false);
        }
        x = b.forward(x);
      }
      (dropout_on ? on : off)[blocks.size()].add(x);
    }
  }
  std::printf(
      "| BN | C | ratio, all dropouts on | ratio, nearest dropout only | predicted, nearest "
      "dropout | running_var / Var_eval |\n|---|---|---|---|---|---|\n");
  for (std::size_t i = 0; i < points; ++i) {
    const BatchNorm2d& bn = i < blocks.size() ? blocks[i].second->bn0 : final_bn;
    const std::string name = i < blocks.size() ? blocks[i].first + ".bn0" : "bn";
    const std::vector<double> vt = variances(on[i]), ve = variances(off[i]);
    const std::vector<double> running(bn.running_var.value.begin(), bn.running_var.value.end());
    if (i == 0) {
      std::printf("| %s | %zu | %.4f | (no dropout upstream) | 1 | %.4f |\n", name.c_str(),
                  ve.size(), mean_ratio(vt, ve), mean_ratio(running, ve));
      continue;
    }
    std::printf("| %s | %zu | %.4f | %.4f | %.4f | %.4f |\n", name.c_str(), ve.size(),
                mean_ratio(vt, ve), mean_ratio(variances(nearest[i]), ve),
                predicted_ratio(excess[i], ve), mean_ratio(running, ve));
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    random_data_table();
    if (argc > 1) trained_model_table(argv[1], argc > 2 ? argv[2] : "");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
