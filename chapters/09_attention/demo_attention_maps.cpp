// Chapter 09 demo: what trained SE and CBAM blocks do on CIFAR-10 test images.
//
//   ch09_demo_attention_maps [SE_CHECKPOINT CBAM_CHECKPOINT [DATA_DIR [OUT_DIR]]]
//
// SE_CHECKPOINT and CBAM_CHECKPOINT are the checkpoint.safetensors that
// `convbook train --model se_cnn` and `--model cbam_cnn` write (default: in runs/se_cnn and
// runs/cbam_cnn; without them the program says how to make them and stops). DATA_DIR is a
// CIFAR-10 binary folder (default: as `convbook train` finds it); only its test_batch.bin is
// read. Writes OUT_DIR/ch09_se_excitation.png (default OUT_DIR: runs/ch09_figures): for each
// SE block, the mean excitation vector per class over the test images, as a classes x channels
// heat map; and OUT_DIR/ch09_cbam_spatial.png: eight test images with the spatial weights m of
// the first and second CBAM blocks. Prints, per SE block, how class-specific its excitation
// is: the mean over channels of the standard deviation across the 10 class means.
#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "chapters/09_attention/attention_cnn.hpp"
#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "convbook/data/augment.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/layers/sequential.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

const char* const kClasses[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                  "dog",      "frog",       "horse", "ship", "truck"};

// The children of a model that are of type Block, in order.
template <typename Block>
std::vector<Block*> blocks_of(Module& net) {
  std::vector<Block*> found;
  for (const auto& [name, child] : net.children())
    if (auto* b = dynamic_cast<Block*>(child)) found.push_back(b);
  return found;
}

ModulePtr load_model(StageAttention kind, const std::string& checkpoint) {
  ModulePtr net = attention_cnn(10, kind);
  load_checkpoint(checkpoint, *net);
  net->eval();
  return net;
}

void run_gnuplot(const std::string& script, const std::string& png) {
  {
    Gnuplot gp("gnuplot");
    gp << script;
  }
  if (!fs::exists(png))
    throw Error("gnuplot did not write " + png + " (is gnuplot-nox installed?)");
  std::printf("wrote %s\n", png.c_str());
}

// Per-class mean excitation of every SE block over the test set: a heat map per block.
void se_figure(const std::string& checkpoint, const CifarSet& test, const fs::path& out) {
  ModulePtr net = load_model(StageAttention::SE, checkpoint);
  std::vector<SqueezeExcitation*> se = blocks_of<SqueezeExcitation>(*net);
  std::vector<std::vector<double>> sum(se.size());  // [block][class * C + c]
  std::vector<std::size_t> per_class(10, 0);
  const std::size_t batch = 100;
  for (std::size_t first = 0; first + batch <= test.size(); first += batch) {
    net->forward(normalized_batch(test, first, batch));
    for (std::size_t b = 0; b < se.size(); ++b) {
      const Tensor& e = se[b]->excitation();
      const std::size_t C = shape_of(e)[1];
      sum[b].resize(10 * C, 0.0);
      for (std::size_t i = 0; i < batch; ++i)
        for (std::size_t c = 0; c < C; ++c) sum[b][test.labels[first + i] * C + c] += e(i, c, 0, 0);
    }
    for (std::size_t i = 0; i < batch; ++i) ++per_class[test.labels[first + i]];
  }
  std::string script = "set terminal pngcairo size 1500,420 font 'sans,10'\nset output '" +
                       (out / "ch09_se_excitation.png").string() + "'\nset multiplot layout 1," +
                       std::to_string(se.size()) + "\nset palette rgb 33,13,10\n" +
                       "set xlabel 'channel'\nset yrange [-0.5:9.5]\nset ytics (";
  for (int k = 0; k < 10; ++k)
    script += std::string(k ? ", " : "") + "'" + kClasses[k] + "' " + std::to_string(k);
  script += ")\n";
  for (std::size_t b = 0; b < se.size(); ++b) {
    const std::size_t C = sum[b].size() / 10;
    const fs::path dat = fs::temp_directory_path() / ("ch09_se_" + std::to_string(b) + ".dat");
    std::ofstream f(dat);
    double spread = 0;
    for (std::size_t c = 0; c < C; ++c) {
      double mean = 0, sq = 0;
      for (std::size_t k = 0; k < 10; ++k) {
        const double v = sum[b][k * C + c] / double(per_class[k]);
        mean += v / 10;
        sq += v * v / 10;
      }
      spread += std::sqrt(std::max(0.0, sq - mean * mean)) / double(C);
    }
    for (std::size_t k = 0; k < 10; ++k) {
      for (std::size_t c = 0; c < C; ++c) f << sum[b][k * C + c] / double(per_class[k]) << ' ';
      f << '\n';
    }
    std::printf(
        "SE block %zu (%zu channels): mean over channels of the std across classes of "
        "the class-mean excitation = %.4f\n",
        b + 1, C, spread);
    script +=
        "set title 'SE block " + std::to_string(b + 1) + " (" + std::to_string(C) +
        " channels): mean excitation per class'\nset xrange [-0.5:" + std::to_string(C - 0.5) +
        "]\nplot '" + dat.string() + "' matrix with image notitle\n";
  }
  run_gnuplot(script + "unset multiplot\n", (out / "ch09_se_excitation.png").string());
}

// Eight test images, and the spatial weights m of CBAM blocks 1 (32x32) and 2 (16x16) on them.
void cbam_figure(const std::string& checkpoint, const CifarSet& test, const fs::path& out) {
  ModulePtr net = load_model(StageAttention::CBAM, checkpoint);
  std::vector<CBAM*> cbam = blocks_of<CBAM>(*net);
  const std::size_t count = 8;
  net->forward(normalized_batch(test, 0, count));
  std::string script = "set terminal pngcairo size 1400,560 font 'sans,9'\nset output '" +
                       (out / "ch09_cbam_spatial.png").string() + "'\nset multiplot layout 3," +
                       std::to_string(count) +
                       "\nunset xtics\nunset ytics\nunset colorbox\nset palette grey\n"
                       "set size ratio -1\nset lmargin 0.5\nset rmargin 0.5\n";
  const fs::path tmp = fs::temp_directory_path();
  for (std::size_t i = 0; i < count; ++i) {  // row 1: the images
    const fs::path dat = tmp / ("ch09_img_" + std::to_string(i) + ".dat");
    std::ofstream f(dat);
    const std::uint8_t* img = test.image(i);
    for (std::size_t y = 0; y < kCifarSize; ++y)
      for (std::size_t x = 0; x < kCifarSize; ++x)
        f << x << ' ' << (kCifarSize - 1 - y) << ' ' << int(img[y * 32 + x]) << ' '
          << int(img[1024 + y * 32 + x]) << ' ' << int(img[2048 + y * 32 + x]) << '\n';
    script += "set title '" + std::string(kClasses[test.labels[i]]) + "'\nplot '" + dat.string() +
              "' using 1:2:3:4:5 with rgbimage notitle\n";
  }
  for (std::size_t b = 0; b < 2 && b < cbam.size(); ++b) {  // rows 2, 3: m of blocks 1, 2
    const Tensor& m = cbam[b]->spatial_gate.weights();
    const std::size_t H = shape_of(m)[2], W = shape_of(m)[3];
    for (std::size_t i = 0; i < count; ++i) {
      const fs::path dat = tmp / ("ch09_m_" + std::to_string(b) + "_" + std::to_string(i) + ".dat");
      std::ofstream f(dat);
      Scalar lo = m(i, 0, 0, 0), hi = lo;
      for (std::size_t y = 0; y < H; ++y)
        for (std::size_t x = 0; x < W; ++x)
          lo = std::min(lo, m(i, 0, y, x)), hi = std::max(hi, m(i, 0, y, x));
      for (std::size_t y = 0; y < H; ++y)
        for (std::size_t x = 0; x < W; ++x)
          f << x << ' ' << (H - 1 - y) << ' ' << m(i, 0, y, x) << '\n';
      char title[96];
      std::snprintf(title, sizeof title, "block %zu: m in [%.2f, %.2f]", b + 1, double(lo),
                    double(hi));
      script += std::string("set title '") + title + "'\nplot '" + dat.string() +
                "' using 1:2:3 with image notitle\n";
    }
  }
  run_gnuplot(script + "unset multiplot\n", (out / "ch09_cbam_spatial.png").string());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string se = argc > 2 ? argv[1] : "runs/se_cnn/checkpoint.safetensors";
    const std::string cbam = argc > 2 ? argv[2] : "runs/cbam_cnn/checkpoint.safetensors";
    if (!fs::exists(se) || !fs::exists(cbam)) {
      std::printf(
          "no checkpoints at %s and %s: train them first, e.g.\n"
          "  convbook train --model se_cnn --epochs 2\n  convbook train --model cbam_cnn "
          "--epochs 2\nor give them: %s SE_CHECKPOINT CBAM_CHECKPOINT [DATA_DIR [OUT_DIR]]\n",
          se.c_str(), cbam.c_str(), argv[0]);
      return 0;
    }
    const std::string dir = find_cifar10_dir(argc > 3 ? argv[3] : "");
    const CifarSet test = read_cifar10({(fs::path(dir) / "test_batch.bin").string()});
    const fs::path out = argc > 4 ? argv[4] : "runs/ch09_figures";
    fs::create_directories(out);
    std::printf("%zu test images from %s\n", test.size(), dir.c_str());
    se_figure(se, test, out);
    cbam_figure(cbam, test, out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
