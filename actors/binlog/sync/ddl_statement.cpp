#include "actors/binlog/sync/ddl_statement.hpp"

#include <cctype>

namespace shoal::binlog {

namespace {

class lexer {
public:
  explicit lexer(std::string_view s) : s_(s) {}

  // The next word, identifier or punctuation; "" at the end.
  std::string next(bool* quoted = nullptr) {
    skip_blanks();
    if (quoted)
      *quoted = false;
    if (i_ >= s_.size())
      return {};
    char c = s_[i_];
    if (c == '\'' || c == '"') { // a string: its content, backslash escapes kept
      std::string out;
      ++i_;
      while (i_ < s_.size()) {
        if (s_[i_] == c) {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == c) { // '' inside '...'
            out += c;
            i_ += 2;
            continue;
          }
          break;
        }
        if (s_[i_] == '\\' && i_ + 1 < s_.size())
          out += s_[i_++];
        out += s_[i_++];
      }
      ++i_;
      return out;
    }
    if (c == '`') {
      if (quoted)
        *quoted = true;
      std::string out;
      ++i_;
      while (i_ < s_.size()) {
        if (s_[i_] == '`') {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == '`') {
            out += '`';
            i_ += 2;
            continue;
          }
          ++i_;
          break;
        }
        out += s_[i_++];
      }
      return out;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
        static_cast<unsigned char>(c) >= 0x80) {
      auto start = i_;
      while (i_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
              s_[i_] == '$' || static_cast<unsigned char>(s_[i_]) >= 0x80))
        ++i_;
      return std::string{s_.substr(start, i_ - start)};
    }
    ++i_;
    return std::string(1, c);
  }

  /// Offset just past what next() returned last.
  size_t position() const { return i_; }

  std::string peek() {
    auto save = i_;
    auto w = next();
    i_ = save;
    return w;
  }

private:
  void skip_blanks() {
    while (i_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[i_]))) {
        ++i_;
      } else if (s_.compare(i_, 2, "/*") == 0) {
        auto end = s_.find("*/", i_ + 2);
        i_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (s_.compare(i_, 2, "--") == 0 || s_[i_] == '#') {
        auto end = s_.find('\n', i_);
        i_ = end == std::string_view::npos ? s_.size() : end + 1;
      } else {
        break;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

std::string upper(std::string w) {
  for (auto& c : w)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return w;
}

// Reads `name` or `db`.`name`; sets *qualified for the second form.
std::pair<std::string, std::string>
read_name(lexer& in, const std::string& default_schema, bool* qualified = nullptr) {
  auto first = in.next();
  if (qualified)
    *qualified = false;
  if (in.peek() == ".") {
    in.next();
    auto second = in.next();
    if (qualified)
      *qualified = true;
    return {first, second};
  }
  return {default_schema, first};
}

// Skips DEFINER = user@host, SQL SECURITY x, ALGORITHM = x, AGGREGATE: the
// clauses between CREATE [OR REPLACE] and the object word.
std::string skip_create_clauses(lexer& in, std::string w) {
  while (true) {
    if (w == "DEFINER") {
      in.next(); // =
      in.next(); // user, `user`, 'user' or CURRENT_USER
      if (in.peek() == "@") {
        in.next();
        in.next();
      }
      if (in.peek() == "(") { // CURRENT_USER()
        in.next();
        in.next();
      }
      w = upper(in.next());
    } else if (w == "SQL") { // SQL SECURITY DEFINER|INVOKER
      in.next();
      in.next();
      w = upper(in.next());
    } else if (w == "ALGORITHM") {
      in.next();
      in.next();
      w = upper(in.next());
    } else if (w == "AGGREGATE" || w == "DEFINITELY") {
      w = upper(in.next());
    } else {
      return w;
    }
  }
}

void skip_if_exists(lexer& in, bool not_) {
  if (upper(in.peek()) == "IF") {
    in.next();
    if (not_)
      in.next();
    in.next();
  }
}

} // namespace

bool is_routine_object(const std::string& object) {
  return object == "TRIGGER" || object == "EVENT" || object == "PROCEDURE" ||
         object == "FUNCTION" || object == "PACKAGE";
}

bool is_account_object(const std::string& object) {
  return object == "USER" || object == "ROLE" || object == "SERVER";
}

ddl_statement parse_ddl(std::string_view statement, const std::string& default_schema) {
  ddl_statement d;
  lexer in{statement};
  auto w1 = upper(in.next());
  d.tables.emplace_back(default_schema, "");
  auto set_tables = [&](std::vector<std::pair<std::string, std::string>> t) {
    d.scope = ddl_scope::tables;
    d.tables = std::move(t);
  };
  if (w1 == "CREATE" || w1 == "ALTER" || w1 == "DROP") {
    auto w = upper(in.next());
    if (w == "OR") { // OR REPLACE
      in.next();
      w = upper(in.next());
    }
    w = skip_create_clauses(in, w);
    while (w == "ONLINE" || w == "IGNORE" || w == "UNIQUE" || w == "FULLTEXT" ||
           w == "SPATIAL") {
      w = upper(in.next());
    }
    if (w == "TEMPORARY") {
      d.temporary = true;
      w = upper(in.next());
    }
    d.verb = w1 + " " + w;
    d.object = w == "SCHEMA" ? "DATABASE" : w;
    if (w == "DATABASE" || w == "SCHEMA") {
      skip_if_exists(in, w1 == "CREATE");
      d.scope = ddl_scope::database;
      d.tables = {{in.next(), ""}};
      d.name_end = in.position();
      d.verb = w1 + " DATABASE";
    } else if (w == "TABLE") {
      skip_if_exists(in, w1 == "CREATE");
      bool q = false;
      std::vector<std::pair<std::string, std::string>> t{
          read_name(in, default_schema, &q)};
      d.qualified.push_back(q);
      while (w1 == "DROP" && in.peek() == ",") {
        in.next();
        t.push_back(read_name(in, default_schema, &q));
        d.qualified.push_back(q);
      }
      set_tables(std::move(t));
    } else if (w == "INDEX") {
      skip_if_exists(in, w1 == "CREATE");
      in.next();
      while (true) {
        auto x = in.next();
        if (x.empty())
          break;
        if (upper(x) == "ON") {
          bool q = false;
          set_tables({read_name(in, default_schema, &q)});
          d.qualified.push_back(q);
          break;
        }
      }
    } else if (!w.empty()) {
      if (w == "USER" || w == "ROLE" || w == "SERVER" || w == "VIEW" || w == "TRIGGER" ||
          w == "EVENT" || w == "PROCEDURE" || w == "FUNCTION" || w == "PACKAGE" ||
          w == "SEQUENCE") {
        skip_if_exists(in, w1 == "CREATE");
        if (w == "PACKAGE" && upper(in.peek()) == "BODY")
          in.next();
        d.object_name = read_name(in, default_schema);
      }
    }
  } else if (w1 == "RENAME") {
    d.verb = "RENAME TABLE";
    auto w = upper(in.next());
    if (w == "TABLE" || w == "TABLES") {
      d.object = "TABLE";
      std::vector<std::pair<std::string, std::string>> t;
      bool q = false;
      while (true) {
        t.push_back(read_name(in, default_schema, &q));
        d.qualified.push_back(q);
        if (upper(in.next()) != "TO")
          break;
        t.push_back(read_name(in, default_schema, &q));
        d.qualified.push_back(q);
        if (in.next() != ",")
          break;
      }
      set_tables(std::move(t));
    } else if (w == "USER") {
      d.verb = "RENAME USER";
      d.object = "USER";
    }
  } else if (w1 == "TRUNCATE") {
    d.verb = "TRUNCATE TABLE";
    d.object = "TABLE";
    if (upper(in.peek()) == "TABLE")
      in.next();
    bool q = false;
    set_tables({read_name(in, default_schema, &q)});
    d.qualified.push_back(q);
  }
  return d;
}

} // namespace shoal::binlog
