#include "convbook/io/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "convbook/error.hpp"

// safetensors stores little-endian bytes; we copy them with memcpy, which is only right on a
// little-endian machine (x86-64 and ARM64 as Debian runs them).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "convbook's safetensors reader assumes a little-endian host");

namespace convbook {

namespace {

using json = nlohmann::json;

/// Bytes per element of a dtype we know, 0 for any other.
std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  return 0;
}

const char* const kKnownDtypes = "F32, F64, I64, I32";

/// Product of the dimensions; throws on overflow (a hostile header could ask for 2^70 floats).
std::size_t product(const std::vector<std::size_t>& shape, const std::string& what) {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) {
      throw Error(what + ": shape " + to_string(shape) + " is too large");
    }
    n *= d;
  }
  return n;
}

/// Decodes `count` little-endian elements of `dtype` from `bytes` into doubles.
void decode(const std::string& dtype, const char* bytes, std::size_t count,
            std::vector<double>& out) {
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (dtype == "F32") {
      float v;
      std::memcpy(&v, bytes + 4 * i, 4);
      out[i] = v;
    } else if (dtype == "F64") {
      std::memcpy(&out[i], bytes + 8 * i, 8);
    } else if (dtype == "I64") {
      std::int64_t v;
      std::memcpy(&v, bytes + 8 * i, 8);
      out[i] = double(v);
    } else {  // I32
      std::int32_t v;
      std::memcpy(&v, bytes + 4 * i, 4);
      out[i] = v;
    }
  }
}

/// Appends the little-endian bytes of `data` as `dtype` to `out`.
void encode(const std::string& dtype, const std::vector<double>& data, std::string& out) {
  const std::size_t size = dtype_size(dtype);
  const std::size_t start = out.size();
  out.resize(start + size * data.size());
  char* dst = &out[start];
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (dtype == "F32") {
      const float v = float(data[i]);
      std::memcpy(dst + 4 * i, &v, 4);
    } else if (dtype == "F64") {
      std::memcpy(dst + 8 * i, &data[i], 8);
    } else if (dtype == "I64") {
      const std::int64_t v = std::llround(data[i]);
      std::memcpy(dst + 8 * i, &v, 8);
    } else {  // I32
      const std::int32_t v = std::int32_t(std::lround(data[i]));
      std::memcpy(dst + 4 * i, &v, 4);
    }
  }
}

/// Reads a whole file into memory; the message names the file when it cannot be opened.
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("safetensors: cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error("safetensors: error while reading '" + path + "'");
  return buffer.str();
}

/// Parses one header entry, checking its fields against the data section of `data_size` bytes.
StoredTensor parse_entry(const std::string& where, const json& entry, const char* data,
                         std::size_t data_size) {
  if (!entry.is_object()) throw Error(where + ": expected an object, found " + entry.dump());
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) throw Error(where + ": missing \"" + key + "\"");
  }
  const json& dtype = entry["dtype"];
  if (!dtype.is_string())
    throw Error(where + ": \"dtype\" must be a string, found " + dtype.dump());

  StoredTensor t;
  t.dtype = dtype.get<std::string>();
  const std::size_t size = dtype_size(t.dtype);
  if (size == 0) {
    throw Error(where + ": unknown dtype \"" + t.dtype + "\" (expected one of " + kKnownDtypes +
                ")");
  }

  const json& shape = entry["shape"];
  if (!shape.is_array()) throw Error(where + ": \"shape\" must be an array, found " + shape.dump());
  for (const json& d : shape) {
    if (!d.is_number_unsigned()) {
      throw Error(where + ": \"shape\" must hold non-negative integers, found " + shape.dump());
    }
    t.shape.push_back(d.get<std::size_t>());
  }

  const json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    throw Error(where + ": \"data_offsets\" must be [begin, end], found " + offsets.dump());
  }
  const std::size_t begin = offsets[0].get<std::size_t>();
  const std::size_t end = offsets[1].get<std::size_t>();
  const std::size_t count = product(t.shape, where);
  if (count > std::numeric_limits<std::size_t>::max() / size) {
    throw Error(where + ": shape " + to_string(t.shape) + " is too large");
  }
  const std::size_t expected = count * size;
  if (end < begin || end - begin != expected) {
    throw Error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                "] hold " + std::to_string(end < begin ? 0 : end - begin) + " bytes, expected " +
                std::to_string(expected) + " for " + t.dtype + " " + to_string(t.shape));
  }
  if (end > data_size) {
    throw Error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                "] lie beyond the data section of " + std::to_string(data_size) + " bytes");
  }
  decode(t.dtype, data + begin, count, t.data);
  return t;
}

/// Writes all of `bytes` to `fd`, retrying short writes.
bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += std::size_t(n);
  }
  return true;
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
  const std::string bytes = read_file(path);
  const std::string what = "safetensors '" + path + "'";
  if (bytes.size() < 8) {
    throw Error(what + ": file is " + std::to_string(bytes.size()) +
                " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > bytes.size() - 8) {
    throw Error(what + ": header length " + std::to_string(header_len) + " goes beyond the file (" +
                std::to_string(bytes.size() - 8) + " bytes after the length)");
  }

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(header_len));
  } catch (const json::exception& e) {
    throw Error(what + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!header.is_object()) {
    throw Error(what + ": header must be a JSON object, found " + std::string(header.type_name()));
  }

  const char* data = bytes.data() + 8 + header_len;
  const std::size_t data_size = bytes.size() - 8 - header_len;
  SafetensorsFile file;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error(what + ": __metadata__ must be an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          throw Error(what + ": __metadata__[\"" + key + "\"] must be a string, found " +
                      value.dump());
        }
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    file.tensors[name] = parse_entry(what + ": tensor \"" + name + "\"", entry, data, data_size);
  }
  return file;
}

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Header and data are built in memory first, so nothing touches the disk if a tensor is bad.
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, t] : tensors) {
    const std::string where = "write_safetensors '" + path + "': tensor \"" + name + "\"";
    if (name == "__metadata__") throw Error(where + ": this name is reserved for metadata");
    if (dtype_size(t.dtype) == 0) {
      throw Error(where + ": unknown dtype \"" + t.dtype + "\" (expected one of " + kKnownDtypes +
                  ")");
    }
    const std::size_t count = product(t.shape, where);
    if (t.data.size() != count) {
      throw Error(where + ": data has " + std::to_string(t.data.size()) + " values, shape " +
                  to_string(t.shape) + " needs " + std::to_string(count));
    }
    const std::size_t begin = data.size();
    encode(t.dtype, t.data, data);
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned

  std::string bytes(8, '\0');
  const std::uint64_t header_len = text.size();
  std::memcpy(&bytes[0], &header_len, 8);
  bytes += text;
  bytes += data;

  // write to path.tmp, fsync, rename: readers never see a partial file.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error("write_safetensors: cannot create '" + tmp + "': " + std::strerror(errno));
  }
  const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(written ? errno : saved_errno);
    std::remove(tmp.c_str());
    throw Error("write_safetensors: cannot write '" + path + "': " + reason);
  }
}

Tensor to_tensor(const StoredTensor& t) {
  if (t.shape.size() > 4) {
    throw Error("to_tensor: a Tensor holds at most 4 dimensions, got shape " +
                to_string(t.shape));
  }
  Shape shape = {1, 1, 1, 1};
  for (std::size_t i = 0; i < t.shape.size(); ++i) shape[i] = t.shape[i];
  if (numel(shape) != t.data.size()) {
    throw Error("to_tensor: shape " + to_string(t.shape) + " needs " +
                std::to_string(numel(shape)) + " values, data has " +
                std::to_string(t.data.size()));
  }
  Tensor out = zeros(shape);
  for (std::size_t i = 0; i < t.data.size(); ++i) out.data()[i] = Scalar(t.data[i]);
  return out;
}

StoredTensor from_tensor(const Tensor& t, std::vector<std::size_t> shape) {
  if (shape.empty()) shape.assign(t.shape().begin(), t.shape().end());
  const std::size_t count = product(shape, "from_tensor");
  if (count != t.size()) {
    throw Error("from_tensor: shape " + to_string(shape) + " has " + std::to_string(count) +
                " elements, the tensor has " + std::to_string(t.size()));
  }
  StoredTensor out;
  out.dtype = "F32";
  out.shape = std::move(shape);
  out.data.assign(t.data(), t.data() + t.size());
  return out;
}

}  // namespace convbook
