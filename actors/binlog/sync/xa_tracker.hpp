// xa_tracker: prepared XA transactions, whose rows wait for their XA COMMIT.
//
// A prepared XA transaction is not committed yet: its rows are held from its
// group (XA START .. XA END, then an XA_PREPARE event) until a later group
// commits it (XA COMMIT: applied there, in commit order) or rolls it back
// (XA ROLLBACK: dropped). MariaDB flags such a group in its GTID
// (FL_PREPARED_XA); MySQL's GTID says nothing, and its group opens with
// XA START. `XA COMMIT ... ONE PHASE` needs no hold: MariaDB logs its rows as a
// normal group, MySQL as an XA group whose XA_PREPARE event says one_phase.
//
//   xa.begin_group(mariadb_gtid, gtid_flags_prepared);
//   xa.on_xa_start();                        // QUERY "XA START ..."
//   if (xa.holding()) xa.hold(row); else dispatch(row);
//   xa.on_xa_end(xid, group_start);          // QUERY "XA END xid"
//   auto c = xa.commit(xid, one_phase);      // rows to apply, or why not
//   xa.rollback(xid);
//   xa.applying(prepared_at, last_key);      // after dispatching c.rows
//   auto f = xa.floor(applied_everywhere);   // where a restart must read from
//
// The floor is the earliest XA PREPARE whose rows are not yet applied by every
// partition; the reader keeps it in the checkpoint table so that a restart
// reads the prepared rows again. Pure logic; no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "messages/binlog_row.hpp"

namespace shoal::binlog {

/// A row of a prepared XA transaction, held until its XA COMMIT.
struct held_row {
  row_kind kind = row_kind::write;
  std::shared_ptr<const table_schema> table;
  row_change change;
  uint32_t time = 0;
  /// An update that changes the row's key (applied in a barrier).
  bool moves = false;
};

class xa_tracker {
public:
  /// A new event group; `mariadb_gtid`: it began with a MariaDB GTID, whose
  /// `prepared` flag says whether it is an XA PREPARE.
  void begin_group(bool mariadb_gtid, bool prepared);

  /// QUERY "XA START ...": an XA group, held unless a MariaDB GTID said otherwise.
  void on_xa_start();

  /// True while rows of the current group must be held.
  bool holding() const { return holding_; }

  void hold(held_row row) { group_rows_.push_back(std::move(row)); }

  /// QUERY "XA END xid" in a held group: its rows wait under `xid`, prepared at
  /// `group_start`. False when the group is not held (nothing to do).
  bool on_xa_end(const std::string& xid, const binlog_position& group_start);

  struct commit_result {
    enum class outcome : uint8_t {
      /// Apply `rows` now, in this order.
      apply,
      /// ONE PHASE whose rows were not held: already handed on in their group.
      nothing,
      /// The prepare was never read (the pipeline started between prepare and
      /// commit): the rows are not known here.
      unknown,
    };
    outcome what = outcome::nothing;
    std::vector<held_row> rows;
    binlog_position prepared_at;
  };

  /// XA COMMIT xid (or an XA_PREPARE event with one_phase).
  commit_result commit(const std::string& xid, bool one_phase);

  /// XA ROLLBACK xid: drops its rows; false when it was not held.
  bool rollback(const std::string& xid);

  /// The rows of a commit prepared at `prepared_at` are handed on, the last
  /// with key `commit_end`: the floor stays until every partition is past it.
  void applying(const binlog_position& prepared_at, const change_key& commit_end);

  /// Where a restart must read from at the latest, given that every partition
  /// has applied up to `applied_everywhere`; nullopt when nothing is held.
  std::optional<binlog_position> floor(const change_key& applied_everywhere);

  /// True when some committed XA's rows are not yet applied everywhere.
  bool has_applying() const { return !applying_.empty(); }

  /// The xid in "XA END|COMMIT|ROLLBACK <xid> [ONE PHASE]" as the binlog spells it.
  static std::string xid_of(const std::string& statement, const std::string& prefix);

private:
  struct prepared {
    binlog_position at;
    std::vector<held_row> rows;
  };
  struct committed {
    binlog_position prepared_at;
    change_key commit_end;
  };
  bool holding_ = false;
  bool flagged_ = false;
  std::vector<held_row> group_rows_;
  // Prepared and not yet committed or rolled back, by xid.
  std::map<std::string, prepared> pending_;
  // Committed, with rows some partition may not have applied yet.
  std::vector<committed> applying_;
};

} // namespace shoal::binlog
