// SPDX-License-Identifier: GPL-2.0-or-later
//
// The embedded core store: one SQLite file in the state directory of the
// ilpd that plays its edomain's core.  Durable across restarts: WAL
// journal, synchronous=FULL (every commit is fsynced before put()
// returns).  The history of changes is a table, so that a watch from any
// revision since the last compact() replays what it missed.
#pragma once

#include <filesystem>
#include <memory>

#include "store/store.hpp"

namespace ilpd::store
{

// Opens (creating it if need be) the store in @file.  Throws StoreError
// naming the file when it cannot, or when it is not a store.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path &file);

} // namespace ilpd::store
