#include "convbook/repr.hpp"

#include <cstdio>
#include <cstdlib>

namespace convbook {

std::string python_float(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // Python writes 1.0, not 1
  return s;
}

}  // namespace convbook
