#include "actors/binlog/decoder/json_diff.hpp"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <utility>

#include "actors/binlog/decoder/byte_reader.hpp"
#include "actors/binlog/decoder/json_binary.hpp"

namespace shoal::binlog {

namespace {

decode_error failure(std::string what) {
  decode_error err;
  err.what = std::move(what);
  return err;
}

/// A JSON document as a tree. Scalars keep their text as printed; object keys are
/// held unescaped, in the document's order.
struct node {
  enum class kind : uint8_t { scalar, array, object };
  kind type = kind::scalar;
  std::string text;
  std::vector<std::string> keys;
  std::vector<node> items;
};

/// Reads JSON text as json_binary_to_text prints it (any valid JSON, in fact).
class parser {
public:
  explicit parser(std::string_view text) : text_(text) {}

  std::optional<node> document() {
    auto n = value(0);
    skip_space();
    if (!n || at_ != text_.size())
      return std::nullopt;
    return n;
  }

private:
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_])))
      ++at_;
  }

  bool eat(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }

  std::optional<node> value(size_t depth) {
    skip_space();
    if (at_ >= text_.size() || depth > 200)
      return std::nullopt;
    char c = text_[at_];
    if (c == '{' || c == '[') {
      ++at_;
      node n;
      n.type = c == '{' ? node::kind::object : node::kind::array;
      char close = c == '{' ? '}' : ']';
      if (eat(close))
        return n;
      do {
        if (n.type == node::kind::object) {
          skip_space();
          auto key = string_token();
          if (!key || !eat(':'))
            return std::nullopt;
          auto k = unescape(*key);
          if (!k)
            return std::nullopt;
          n.keys.push_back(std::move(*k));
        }
        auto item = value(depth + 1);
        if (!item)
          return std::nullopt;
        n.items.push_back(std::move(*item));
      } while (eat(','));
      if (!eat(close))
        return std::nullopt;
      return n;
    }
    node n;
    if (c == '"') {
      auto s = string_token();
      if (!s)
        return std::nullopt;
      n.text = std::string{*s};
      return n;
    }
    auto start = at_;
    while (at_ < text_.size() && text_[at_] != ',' && text_[at_] != ']' &&
           text_[at_] != '}' && !std::isspace(static_cast<unsigned char>(text_[at_])))
      ++at_;
    if (at_ == start)
      return std::nullopt;
    n.text = std::string{text_.substr(start, at_ - start)};
    return n;
  }

  /// A quoted string at the position, quotes included.
  std::optional<std::string_view> string_token() {
    if (at_ >= text_.size() || text_[at_] != '"')
      return std::nullopt;
    auto start = at_++;
    while (at_ < text_.size() && text_[at_] != '"')
      at_ += text_[at_] == '\\' ? 2 : 1;
    if (at_ >= text_.size())
      return std::nullopt;
    ++at_;
    return text_.substr(start, at_ - start);
  }

public:
  /// The bytes a quoted JSON string stands for (UTF-8 for \u escapes).
  static std::optional<std::string> unescape(std::string_view quoted) {
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"')
      return std::nullopt;
    std::string_view s = quoted.substr(1, quoted.size() - 2);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        out += s[i];
        continue;
      }
      if (++i >= s.size())
        return std::nullopt;
      switch (s[i]) {
      case '"':
      case '\\':
      case '/':
        out += s[i];
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto hex = [&](size_t at) -> std::optional<uint32_t> {
          if (at + 4 > s.size())
            return std::nullopt;
          uint32_t v = 0;
          for (size_t k = at; k < at + 4; ++k) {
            auto c = static_cast<unsigned char>(s[k]);
            if (!std::isxdigit(c))
              return std::nullopt;
            v = v * 16 + static_cast<uint32_t>(
                             std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
          }
          return v;
        };
        auto cp = hex(i + 1);
        if (!cp)
          return std::nullopt;
        i += 4;
        if (*cp >= 0xd800 && *cp < 0xdc00 && i + 2 < s.size() && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
          auto low = hex(i + 3);
          if (low && *low >= 0xdc00 && *low < 0xe000) {
            cp = 0x10000 + ((*cp - 0xd800) << 10) + (*low - 0xdc00);
            i += 6;
          }
        }
        append_utf8(out, *cp);
        break;
      }
      default:
        return std::nullopt;
      }
    }
    return out;
  }

private:
  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::string_view text_;
  size_t at_ = 0;
};

void print(const node& n, std::string& out) {
  switch (n.type) {
  case node::kind::scalar:
    out += n.text;
    return;
  case node::kind::array:
  case node::kind::object: {
    bool object = n.type == node::kind::object;
    out += object ? '{' : '[';
    for (size_t i = 0; i < n.items.size(); ++i) {
      if (i > 0)
        out += ", ";
      if (object) {
        out += json_quote(n.keys[i]);
        out += ": ";
      }
      print(n.items[i], out);
    }
    out += object ? '}' : ']';
    return;
  }
  }
}

/// One step of a path: a member name, or an array cell counted from the start or,
/// with `from_last`, back from the last cell.
struct leg {
  bool member = true;
  std::string name;
  bool from_last = false;
  uint64_t index = 0;
};

bool identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

/// Parses a path without wildcards or ranges; nullopt with `why` set otherwise.
std::optional<std::vector<leg>> parse_path(std::string_view p, std::string& why) {
  auto space = [&](size_t& i) {
    while (i < p.size() && std::isspace(static_cast<unsigned char>(p[i])))
      ++i;
  };
  size_t i = 0;
  space(i);
  if (i >= p.size() || p[i] != '$') {
    why = "does not start with $";
    return std::nullopt;
  }
  ++i;
  std::vector<leg> legs;
  for (;;) {
    space(i);
    if (i >= p.size())
      return legs;
    leg l;
    if (p[i] == '.') {
      ++i;
      space(i);
      if (i < p.size() && p[i] == '"') {
        auto start = i++;
        while (i < p.size() && p[i] != '"')
          i += p[i] == '\\' ? 2 : 1;
        if (i >= p.size()) {
          why = "has an unterminated quoted member";
          return std::nullopt;
        }
        ++i;
        auto name = parser::unescape(p.substr(start, i - start));
        if (!name) {
          why = "has an invalid quoted member";
          return std::nullopt;
        }
        l.name = std::move(*name);
      } else {
        auto start = i;
        while (i < p.size() && identifier_char(p[i]))
          ++i;
        if (i == start) {
          why = i < p.size() && p[i] == '*' ? "has a wildcard" : "has an empty member";
          return std::nullopt;
        }
        l.name = std::string{p.substr(start, i - start)};
      }
    } else if (p[i] == '[') {
      ++i;
      space(i);
      l.member = false;
      if (p.substr(i, 4) == "last") {
        l.from_last = true;
        i += 4;
        space(i);
        if (i < p.size() && p[i] == '-') {
          ++i;
          space(i);
        } else {
          goto close;
        }
      }
      {
        auto start = i;
        while (i < p.size() && std::isdigit(static_cast<unsigned char>(p[i])))
          ++i;
        if (i == start || i - start > 18) {
          why = i < p.size() && p[i] == '*' ? "has a wildcard" : "has an invalid cell";
          return std::nullopt;
        }
        l.index =
            std::strtoull(std::string{p.substr(start, i - start)}.c_str(), nullptr, 10);
      }
    close:
      space(i);
      if (i >= p.size() || p[i] != ']') {
        why = "has a cell without ] (ranges are not allowed)";
        return std::nullopt;
      }
      ++i;
    } else {
      why = p[i] == '*' ? "has a wildcard" : "has an unexpected character";
      return std::nullopt;
    }
    legs.push_back(std::move(l));
  }
}

/// The cell a leg names in an array of `size` cells; nullopt before the first.
std::optional<uint64_t> cell(const leg& l, size_t size) {
  if (!l.from_last)
    return l.index;
  if (size == 0 || l.index > size - 1)
    return std::nullopt;
  return size - 1 - l.index;
}

/// MySQL's order of object keys: shorter first, then by bytes.
bool key_before(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return a.size() < b.size();
  return a < b;
}

std::optional<size_t> member_at(const node& object, const std::string& name) {
  for (size_t i = 0; i < object.keys.size(); ++i)
    if (object.keys[i] == name)
      return i;
  return std::nullopt;
}

/// Applies one diff to `doc`; the reason when it cannot.
std::optional<std::string> apply(node& doc, const json_diff& d) {
  std::string why;
  auto legs = parse_path(d.path, why);
  if (!legs)
    return "the path " + why;
  std::optional<node> value;
  if (d.operation != json_diff::op::remove) {
    value = parser{d.value}.document();
    if (!value)
      return std::string{"the value is not JSON text"};
  }
  if (legs->empty()) {
    if (d.operation != json_diff::op::replace)
      return std::string{"only REPLACE can name the whole document"};
    doc = std::move(*value);
    return std::nullopt;
  }
  node* parent = &doc;
  for (size_t i = 0; i + 1 < legs->size(); ++i) {
    auto& l = (*legs)[i];
    if (l.member) {
      auto at =
          parent->type == node::kind::object ? member_at(*parent, l.name) : std::nullopt;
      if (!at)
        return std::string{"the document has no value at the path"};
      parent = &parent->items[*at];
    } else {
      auto at = parent->type == node::kind::array ? cell(l, parent->items.size())
                                                  : std::nullopt;
      if (!at || *at >= parent->items.size())
        return std::string{"the document has no value at the path"};
      parent = &parent->items[*at];
    }
  }
  auto& last = legs->back();
  if (last.member) {
    if (parent->type != node::kind::object)
      return std::string{"the path names a member of a value that is not an object"};
    auto at = member_at(*parent, last.name);
    switch (d.operation) {
    case json_diff::op::replace:
      if (!at)
        return std::string{"the document has no value at the path"};
      parent->items[*at] = std::move(*value);
      return std::nullopt;
    case json_diff::op::insert: {
      if (at) {
        parent->items[*at] = std::move(*value);
        return std::nullopt;
      }
      size_t pos = 0;
      while (pos < parent->keys.size() && key_before(parent->keys[pos], last.name))
        ++pos;
      parent->keys.insert(parent->keys.begin() + static_cast<std::ptrdiff_t>(pos),
                          last.name);
      parent->items.insert(parent->items.begin() + static_cast<std::ptrdiff_t>(pos),
                           std::move(*value));
      return std::nullopt;
    }
    case json_diff::op::remove:
      if (!at)
        return std::string{"the document has no value at the path"};
      parent->keys.erase(parent->keys.begin() + static_cast<std::ptrdiff_t>(*at));
      parent->items.erase(parent->items.begin() + static_cast<std::ptrdiff_t>(*at));
      return std::nullopt;
    }
  }
  if (parent->type != node::kind::array)
    return std::string{"the path names a cell of a value that is not an array"};
  auto size = parent->items.size();
  auto at = cell(last, size);
  switch (d.operation) {
  case json_diff::op::replace:
    if (!at || *at >= size)
      return std::string{"the document has no value at the path"};
    parent->items[*at] = std::move(*value);
    return std::nullopt;
  case json_diff::op::insert: {
    auto pos = at ? std::min<uint64_t>(*at, size) : 0;
    parent->items.insert(parent->items.begin() + static_cast<std::ptrdiff_t>(pos),
                         std::move(*value));
    return std::nullopt;
  }
  case json_diff::op::remove:
    if (!at || *at >= size)
      return std::string{"the document has no value at the path"};
    parent->items.erase(parent->items.begin() + static_cast<std::ptrdiff_t>(*at));
    return std::nullopt;
  }
  return std::string{"unknown operation"};
}

const char* operation_name(json_diff::op o) {
  switch (o) {
  case json_diff::op::replace:
    return "REPLACE";
  case json_diff::op::insert:
    return "INSERT";
  case json_diff::op::remove:
    return "REMOVE";
  }
  return "?";
}

} // namespace

decode_result<std::vector<json_diff>> read_json_diffs(std::string_view bytes) {
  byte_reader in{bytes};
  std::vector<json_diff> out;
  while (!in.at_end()) {
    auto nth = "partial JSON diff " + std::to_string(out.size() + 1);
    json_diff d;
    auto operation = in.u8();
    if (operation > 2)
      return failure(nth + ": unknown operation " + std::to_string(operation));
    d.operation = static_cast<json_diff::op>(operation);
    auto path_length = in.packed_int();
    d.path = std::string{in.bytes(path_length)};
    if (!in.ok())
      return failure(nth + ": truncated path");
    if (d.operation != json_diff::op::remove) {
      auto value_length = in.packed_int();
      auto value = in.bytes(value_length);
      if (!in.ok())
        return failure(nth + " (" + d.path + "): truncated value");
      auto text = json_binary_to_text(value);
      if (!text)
        return failure(nth + " (" + d.path +
                       "): invalid binary JSON: " + text.error().what);
      d.value = std::move(*text);
    }
    out.push_back(std::move(d));
  }
  return out;
}

decode_result<std::string> apply_json_diffs(std::string_view document,
                                            const std::vector<json_diff>& diffs) {
  auto doc = parser{document}.document();
  if (!doc)
    return failure("the document before the partial JSON update is not JSON text");
  for (size_t i = 0; i < diffs.size(); ++i)
    if (auto why = apply(*doc, diffs[i]))
      return failure("partial JSON diff " + std::to_string(i + 1) + " (" +
                     operation_name(diffs[i].operation) + " " + diffs[i].path +
                     "): " + *why);
  std::string out;
  print(*doc, out);
  return out;
}

} // namespace shoal::binlog
