#include "convbook/train/metrics.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "convbook/error.hpp"

namespace convbook {

const char* const kMetricsHeader =
    "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

void write_file_atomic(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error("cannot write '" + tmp + "': " + std::strerror(errno));
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw Error("cannot write '" + tmp + "': " + why);
    }
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw Error("cannot flush '" + tmp + "' to disk: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw Error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
  }
}

std::string metrics_to_csv(const std::vector<EpochMetrics>& rows) {
  std::ostringstream out;
  out << kMetricsHeader << '\n';
  out.precision(9);
  for (const EpochMetrics& r : rows) {
    out << r.epoch << ',' << r.lr << ',' << r.train_loss << ',' << r.train_acc << ',' << r.test_loss
        << ',' << r.test_acc << ',' << r.seconds << ',' << r.images_per_s << '\n';
  }
  return out.str();
}

void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows) {
  write_file_atomic(path, metrics_to_csv(rows));
}

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.push_back("");
  return fields;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

}  // namespace

std::vector<EpochMetrics> read_metrics_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("metrics: cannot open '" + path + "' (no such file or not readable)");
  std::string line;
  if (!std::getline(in, line))
    throw Error("metrics: '" + path + "' is empty, expected a header line");
  const std::vector<std::string> expected = split(kMetricsHeader);
  const std::vector<std::string> header = split(trim(line));
  // Columns are found by name so that a file with extra columns still reads.
  std::vector<int> column(expected.size(), -1);
  for (std::size_t j = 0; j < expected.size(); ++j) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (trim(header[i]) == expected[j]) column[j] = int(i);
    }
    if (column[j] < 0) {
      throw Error("metrics: '" + path + "' has no column '" + expected[j] + "'; header is '" +
                  trim(line) + "', expected '" + kMetricsHeader + "'");
    }
  }
  std::vector<EpochMetrics> rows;
  std::size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line);
    if (fields.size() != header.size()) {
      throw Error("metrics: '" + path + "' line " + std::to_string(line_no) + " has " +
                  std::to_string(fields.size()) + " fields, expected " +
                  std::to_string(header.size()));
    }
    double v[8];
    for (std::size_t j = 0; j < expected.size(); ++j) {
      const std::string f = trim(fields[std::size_t(column[j])]);
      char* end = nullptr;
      v[j] = std::strtod(f.c_str(), &end);
      if (f.empty() || end != f.c_str() + f.size()) {
        throw Error("metrics: '" + path + "' line " + std::to_string(line_no) + " column '" +
                    expected[j] + "' is '" + f + "', expected a number");
      }
    }
    EpochMetrics r;
    r.epoch = std::size_t(v[0]);
    r.lr = v[1];
    r.train_loss = v[2];
    r.train_acc = v[3];
    r.test_loss = v[4];
    r.test_acc = v[5];
    r.seconds = v[6];
    r.images_per_s = v[7];
    rows.push_back(r);
  }
  return rows;
}

}  // namespace convbook
