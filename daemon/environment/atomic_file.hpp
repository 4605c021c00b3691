// SPDX-License-Identifier: GPL-2.0-or-later
//
// Files that are either the old or the new version after a crash: a
// service's checkpoint and its configuration.  Written to a temporary file
// beside the target, fsync()ed, renamed over it, and the directory fsync()ed
// so that the rename itself survives a power cut.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace ilpd
{

// Replaces @path with @data atomically (mode 0600: a module's state may
// hold addresses of its users).  Creates the directory (mode 0700) when
// absent.  Throws std::system_error naming the file.
void write_file_atomically(const std::filesystem::path &path, std::span<const std::uint8_t> data);

// The content of @path, nullopt when it does not exist; throws
// std::system_error for other failures, and std::length_error when it is
// longer than @max_len.
std::optional<std::vector<std::uint8_t>> read_file(const std::filesystem::path &path,
						   std::size_t max_len);

} // namespace ilpd
