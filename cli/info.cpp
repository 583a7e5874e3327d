#include "cli/info.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "convbook/error.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook::cli {

Shape parse_input_shape(const std::string& text) {
  Shape s = {1, 0, 0, 0};
  std::size_t dim = 1, pos = 0;
  auto fail = [&text]() {
    return Error("--input: '" + text + "' is not a shape, expected CxHxW such as 3x32x32");
  };
  while (pos <= text.size()) {
    const std::size_t x = std::min(text.find('x', pos), text.size());
    const std::string part = text.substr(pos, x - pos);
    if (dim > 3 || part.empty() || part.find_first_not_of("0123456789") != std::string::npos)
      throw fail();
    s[dim++] = std::stoul(part);
    if (s[dim - 1] == 0) throw fail();
    pos = x + 1;
  }
  if (dim != 4) throw fail();
  return s;
}

namespace {

struct Row {
  std::string name, repr, shape;
  std::size_t params = 0;
  double flops = 0;
  int depth = 0;
};

std::string human(double v) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.2f%s", v, units[u]);
  return buf;
}

std::string grouped(std::size_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// Forwards x through a Sequential child by child, recording a row per child; nested
// Sequentials get a summary row and their own indented rows.
Tensor walk(Sequential& seq, const std::string& prefix, int depth, Tensor x,
            std::vector<Row>& rows) {
  for (std::size_t i = 0; i < seq.size(); ++i) {
    const auto& [name, child] = seq.children()[i];
    const std::size_t at = rows.size();
    rows.push_back({prefix + name, child->repr(), "", child->num_parameters(), 0, depth});
    if (auto* inner = dynamic_cast<Sequential*>(child)) {
      rows[at].repr = "Sequential (" + std::to_string(inner->size()) + " layers)";
      x = walk(*inner, prefix + name + ".", depth + 1, x, rows);
    } else {
      x = child->forward(x);
    }
    rows[at].shape = to_string(shape_of(x));
    rows[at].flops = child->flops();
  }
  return x;
}

}  // namespace

std::string layer_table(Module& model, const Shape& input) {
  model.eval();
  std::vector<Row> rows;
  Tensor y;
  if (auto* seq = dynamic_cast<Sequential*>(&model)) {
    y = walk(*seq, "", 0, zeros(input), rows);
  } else {
    y = model.forward(zeros(input));
    for (const auto& [name, child] : model.children()) {
      rows.push_back({name, child->repr(), "-", child->num_parameters(), child->flops(), 0});
    }
  }
  const std::size_t total_params = model.num_parameters();
  const double total_flops = model.flops();

  std::size_t wn = 4, wr = 5, ws = 12;
  for (const Row& r : rows) {
    wn = std::max(wn, r.name.size() + 2 * std::size_t(r.depth));
    wr = std::max(wr, r.repr.size());
    ws = std::max(ws, r.shape.size());
  }
  wr = std::min<std::size_t>(wr, 90);  // very long reprs are cut, the table stays readable
  std::ostringstream out;
  char line[512];
  auto emit = [&](const std::string& n, const std::string& r, const std::string& s,
                  const std::string& p, const std::string& f) {
    std::string rr = r.size() > wr ? r.substr(0, wr - 3) + "..." : r;
    std::snprintf(line, sizeof line, "%-*s  %-*s  %-*s  %12s  %10s\n", int(wn), n.c_str(), int(wr),
                  rr.c_str(), int(ws), s.c_str(), p.c_str(), f.c_str());
    out << line;
  };
  emit("name", "layer", "output shape", "parameters", "FLOPs");
  out << std::string(wn + wr + ws + 12 + 10 + 8, '-') << '\n';
  emit("input", "", to_string(input), "", "");
  for (const Row& r : rows) {
    emit(std::string(2 * std::size_t(r.depth), ' ') + r.name, r.repr, r.shape, grouped(r.params),
         human(r.flops));
  }
  out << std::string(wn + wr + ws + 12 + 10 + 8, '-') << '\n';
  emit("total", "", to_string(shape_of(y)), grouped(total_params), human(total_flops));
  out << "FLOPs = 2 x multiply-adds for one " << input[1] << "x" << input[2] << "x" << input[3]
      << " image (batch 1, eval mode); parameters exclude buffers (BN running statistics).\n";
  return out.str();
}

}  // namespace convbook::cli
