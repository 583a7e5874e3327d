// Chapter 08 demo: where a trained deform_cifar looks. For CIFAR-10 test images, draws the
// nine sampling locations of one output of the deformable layer (the 8x8 map; one of its
// pixels is 4x4 image pixels) against the regular 3x3 grid, and prints how far the learned
// offsets move the taps and what the mask weighs them, averaged over test images.
//
//   ch08_demo_sampling CHECKPOINT DATA_DIR OUT.png [IMAGE...]
//
// CHECKPOINT: runs/deform_cifar/checkpoint.safetensors (convbook train --model deform_cifar);
// DATA_DIR: a CIFAR-10 binary folder (or datasets/cifar-10-sample); IMAGE: test-set indices,
// one panel each (default 0 1 2). Needs gnuplot.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "chapters/08_deformable/deform_conv2d.hpp"
#include "chapters/08_deformable/deform_net.hpp"
#include "convbook/data/augment.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"

using namespace convbook;

namespace {

struct Point {
  double h, v;  // in the layer's input map
};

// The nine sampling points of output (p, q) of a 3x3, stride-1, padding-1 deformable layer,
// image 0 of its last forward; with `learned` false, the regular grid.
std::vector<Point> taps(const DeformConv2d& layer, int p, int q, bool learned) {
  const Tensor& off = layer.last_offset();
  std::vector<Point> pts;
  for (int r = 0; r < 3; ++r) {
    for (int s = 0; s < 3; ++s) {
      const int k = r * 3 + s;
      const double dy = learned ? off(0, 2 * k, p, q) : 0,
                   dx = learned ? off(0, 2 * k + 1, p, q) : 0;
      pts.push_back({p - 1 + r + dy, q - 1 + s + dx});
    }
  }
  return pts;
}

// A point of a map `stride` image pixels per cell, in image pixel coordinates (centres).
Point to_image(const Point& pt, double stride) {
  return {stride * pt.h + (stride - 1) / 2, stride * pt.v + (stride - 1) / 2};
}

void write_points(const std::string& path, const std::vector<Point>& pts) {
  std::ofstream f(path);
  for (const Point& pt : pts) f << pt.v << ' ' << pt.h << '\n';  // x = column, y = row
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CHECKPOINT DATA_DIR OUT.png [IMAGE...]\n", argv[0]);
    return 2;
  }
  try {
    const std::string out = argv[3];
    std::vector<std::size_t> images;
    for (int i = 4; i < argc; ++i) images.push_back(std::size_t(std::atoi(argv[i])));
    if (images.empty()) images = {0, 1, 2};
    auto model = deform_cifar(10, DeformMode::V2);
    load_checkpoint(argv[1], *model);
    model->eval();
    const CifarData data = load_cifar10(argv[2]);
    auto* layer = dynamic_cast<DeformConv2d*>(model->children()[11].second);  // 8x8 map
    if (!layer) throw Error("demo_sampling: the model is not deform_cifar (v2)");

    // How far the taps moved (in pixels of the 8x8 map) and what the mask weighs them.
    const std::size_t stats_images = std::min<std::size_t>(data.test.size(), 500);
    Tensor x = zeros({1, 3, 32, 32});
    double moved = 0, moved_max = 0, mask = 0, mask_min = 1, mask_max = 0;
    for (std::size_t i = 0; i < stats_images; ++i) {
      normalize_image(data.test.image(i), Normalize{}, x.data());
      model->forward(x);
      const Tensor& o = layer->last_offset();
      for (std::size_t j = 0; j < o.size() / 2; ++j) {  // (dy, dx) planes of tap k: 2k, 2k + 1
        const std::size_t k = j / 64, pq = j % 64;
        const double d = std::hypot(o.data()[2 * k * 64 + pq], o.data()[(2 * k + 1) * 64 + pq]);
        moved += d / double(o.size() / 2 * stats_images);
        moved_max = std::max(moved_max, d);
      }
      for (Scalar v : layer->last_mask()) {
        mask += v / double(layer->last_mask().size() * stats_images);
        mask_min = std::min(mask_min, double(v));
        mask_max = std::max(mask_max, double(v));
      }
    }
    std::printf(
        "over %zu test images: tap displacement mean %.3f, max %.3f (pixels of the 8x8 "
        "map; x4 in image pixels); mask mean %.3f, min %.3f, max %.3f\n",
        stats_images, moved, moved_max, mask, mask_min, mask_max);

    // The picture: output (4, 4) of the 8x8 map, one panel per image.
    const std::string dir = out + ".data";
    std::filesystem::create_directories(dir);
    std::ofstream gp(dir + "/plot.gp");
    gp << "set terminal pngcairo size " << 360 * images.size() << ",400 font ',10'\n"
       << "set output '" << out << "'\nset multiplot layout 1," << images.size() << "\n"
       << "set size ratio -1\nunset key\nset xrange [-0.5:31.5]\nset yrange [31.5:-0.5]\n"
       << "set xtics 0,8,32\nset ytics 0,8,32\n";
    for (std::size_t i = 0; i < images.size(); ++i) {
      const std::size_t index = images[i];
      if (index >= data.test.size())
        throw Error("demo_sampling: image " + std::to_string(index) + " is past the test set");
      normalize_image(data.test.image(index), Normalize{}, x.data());
      model->forward(x);
      const std::string base = dir + "/" + std::to_string(index);
      std::ofstream img(base + "_image.txt");  // x y r g b
      const std::uint8_t* px = data.test.image(index);
      for (int h = 0; h < 32; ++h)
        for (int v = 0; v < 32; ++v)
          img << v << ' ' << h << ' ' << int(px[h * 32 + v]) << ' ' << int(px[1024 + h * 32 + v])
              << ' ' << int(px[2048 + h * 32 + v]) << '\n';
      std::vector<Point> regular, learned;
      for (const Point& pt : taps(*layer, 4, 4, false)) regular.push_back(to_image(pt, 4));
      for (const Point& pt : taps(*layer, 4, 4, true)) learned.push_back(to_image(pt, 4));
      write_points(base + "_regular.txt", regular);
      write_points(base + "_learned.txt", learned);
      gp << "set title 'test image " << index << " (label " << data.test.labels[index] << ")'\n"
         << "plot '" << base << "_image.txt' with rgbimage, '" << base
         << "_regular.txt' with points pt 6 ps 2 lw 2 lc rgb '#ffffff', '" << base
         << "_learned.txt' with points pt 7 ps 1.3 lc rgb '#ff2020'\n";
    }
    gp << "unset multiplot\n";
    gp.close();
    if (std::system(("gnuplot '" + dir + "/plot.gp'").c_str()) != 0) {
      throw Error("demo_sampling: gnuplot failed on " + dir +
                  "/plot.gp (is gnuplot-nox installed?)");
    }
    std::printf(
        "wrote %s: white rings = the regular 3x3 grid of output (4, 4) of the 8x8 map, "
        "red dots = the learned sampling locations\n",
        out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ch08_demo_sampling: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
