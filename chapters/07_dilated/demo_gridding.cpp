// Chapter 07 demo: receptive fields of stacks of 3x3 convolutions, by the closed form and by
// one backward pass through all-ones Conv2d layers, and the gridding artifact as a picture.
//
//   ch07_demo_gridding [out.pgm]
//
// prints, per stack, the closed-form RF, the measured extent, the pixels reached and the holes
// in the bounding box; writes the maps of d(2,2,2) and d(1,2,5) side by side as a PGM
// (pnmtopng turns it into the book's PNG).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "chapters/07_dilated/receptive_field.hpp"

using namespace convbook;

namespace {

// Each input pixel becomes a cell x cell square: white = not seen, grey to black = 1 to the
// most paths, a light grid line between pixels.
void write_pgm(const std::string& path, const std::vector<Tensor>& maps) {
  const std::size_t cell = 12, gap = 24, n = shape_of(maps[0])[2];
  const std::size_t width = maps.size() * n * cell + (maps.size() - 1) * gap, height = n * cell;
  std::vector<unsigned char> img(width * height, 255);
  for (std::size_t m = 0; m < maps.size(); ++m) {
    const Tensor& t = maps[m];
    const Scalar top = *std::max_element(t.begin(), t.end());
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t c = 0; c < n; ++c) {
        const Scalar v = t(0, 0, r, c);
        const int shade = v == 0 ? 255 : int(180 - 180 * double(v) / double(top));
        for (std::size_t i = 0; i < cell; ++i) {
          for (std::size_t j = 0; j < cell; ++j) {
            const bool line = i == 0 || j == 0;
            const std::size_t x = m * (n * cell + gap) + c * cell + j, y = r * cell + i;
            img[y * width + x] = (unsigned char)(line ? std::min(shade, 215) : shade);
          }
        }
      }
    }
  }
  std::ofstream out(path, std::ios::binary);
  out << "P5\n" << width << " " << height << "\n255\n";
  out.write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t size = 41;
  const std::vector<std::vector<RFLayer>> stacks = {
      rf_stack(3, {1, 1, 1}),    rf_stack(3, {2, 2, 2}),
      rf_stack(3, {1, 2, 5}),    rf_stack(3, {1, 2, 3}),
      rf_stack(3, {1, 2, 4, 8}), rf_stack(3, {2, 4, 8}),
      rf_stack(3, {1, 2, 5, 9}), {{3, 2, 1}, {3, 1, 2}, {3, 1, 1}},
  };
  std::printf("%-32s %6s %8s %8s %6s %10s\n", "stack", "RF", "extent", "reached", "holes",
              "max paths");
  for (const auto& s : stacks) {
    const Tensor map = receptive_field_map(s, size);
    const RFMeasure m = measure_receptive_field(map);
    std::printf("%-32s %6zu %8zu %8zu %6zu %10.0f\n", to_string(s).c_str(), receptive_field_size(s),
                m.extent, m.reached, m.holes, double(*std::max_element(map.begin(), map.end())));
  }
  if (argc > 1) {
    const std::size_t n = 19;  // RF of d(1,2,5) is 17: one pixel of margin
    write_pgm(argv[1], {receptive_field_map(rf_stack(3, {2, 2, 2}), n),
                        receptive_field_map(rf_stack(3, {1, 2, 5}), n)});
    std::printf("wrote %s: d(2,2,2) left, d(1,2,5) right, %zux%zu input each\n", argv[1], n, n);
  }
  return 0;
}
