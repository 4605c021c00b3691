// SPDX-License-Identifier: GPL-2.0-or-later
//
// Loading service modules (include/ilp/service.h) from ilpd's plugin
// directory.  A module runs inside ilpd with its privileges, so the loader
// is strict about where it comes from and what it declares: it refuses
// (LoadError, naming the file)
//  - a directory or module file that is group- or world-writable, or not
//    owned by root or by the daemon's own user: someone else could put
//    code into the daemon;
//  - a module without the ILP_SERVICE_SYMBOL symbol (nor version 1's), of
//    an ABI version it does not know, with a descriptor smaller than
//    version 2's, or without init(), handle() or a valid name;
//  - a service ID range that holds 0 or 0xffffffff (reserved), or an ID
//    or name that a loaded module already has.
//
// Version 1 modules (service_abi_v1.h) still load: Module keeps which
// version it is, and ServiceHost calls each with its own structs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include <ilp/service.h>

#include "environment/service_abi_v1.h"

namespace ilpd
{

struct LoadError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// One dlopen()ed module; dlclose()d when destroyed.  Whoever calls into
// the module (ServiceHost) must be done with it before that.
class Module
{
public:
	Module(Module &&) noexcept = default;
	Module &operator=(Module &&) noexcept = default;
	~Module() = default;

	// 1 or ILP_SERVICE_ABI_VERSION.
	std::uint32_t abi() const noexcept { return abi_; }
	// The descriptor in this ilpd's layout: the members the module's
	// size did not cover are zero.  For a version 1 module, init and
	// handle are null (theirs take other structs: v1()).
	const ilp_service &descriptor() const noexcept { return desc_; }
	// A version 1 module's own descriptor; null for version 2.
	const ilp_service_v1 *v1() const noexcept { return v1_; }
	// The service IDs it serves: id() to last_id().
	std::uint32_t id() const noexcept { return desc_.service_id; }
	std::uint32_t last_id() const noexcept
	{
		return desc_.service_id + desc_.service_count - 1;
	}
	bool serves(std::uint32_t service) const noexcept
	{
		return service >= id() && service <= last_id();
	}
	std::string name() const { return desc_.name; }
	std::string description() const { return desc_.description ? desc_.description : ""; }
	// As given to the loader (not resolved), for messages and "service list".
	const std::filesystem::path &path() const noexcept { return path_; }

private:
	friend class ModuleLoader;
	struct Closer {
		void operator()(void *handle) const noexcept;
	};
	using Handle = std::unique_ptr<void, Closer>;

	Module(Handle handle, std::uint32_t abi, const ilp_service &desc, const ilp_service_v1 *v1,
	       std::filesystem::path path);

	Handle handle_;
	std::uint32_t abi_;
	ilp_service desc_;         // a copy; its strings and functions are the module's
	const ilp_service_v1 *v1_; // inside the module: not ours to free
	std::filesystem::path path_;
};

// A module the loader refused, and why (a complete sentence).
struct LoadFailure {
	std::filesystem::path path;
	std::string error;
};

// What load_dir() made of a directory.
struct DirLoad {
	std::vector<Module> modules;
	std::vector<LoadFailure> failures;
};

class ModuleLoader
{
public:
	// The IDs and names already in use, refused as duplicates.
	struct Taken {
		std::map<std::uint32_t, std::uint32_t> ids; // first ID -> last
		std::set<std::string> names;

		void add(const Module &m);
		// The first ID of a range that overlaps @first to @last.
		std::optional<std::uint32_t> overlap(std::uint32_t first, std::uint32_t last) const;
	};

	// @owner: besides root, the user that may own modules and their
	// directory (the daemon's own, by default).
	explicit ModuleLoader(uid_t owner = ::geteuid()) : owner_(owner) {}

	// Loads the module at @file.  Its directory is checked too: whoever
	// may write there may replace the module.
	Module load(const std::filesystem::path &file, const Taken &taken = {}) const;

	// Loads every "*.so" of @dir, in name order (so that of two modules
	// with one ID the same one wins each time).  A refused module is
	// recorded in failures and the others are loaded; a refused @dir
	// throws LoadError.
	DirLoad load_dir(const std::filesystem::path &dir, Taken taken = {}) const;

private:
	void check_owner_and_mode(const std::filesystem::path &path, bool dir) const;
	Module open(const std::filesystem::path &file, const Taken &taken) const;
	static void check(const ilp_service &d, bool has_init, bool has_handle,
			  const std::string &where, const Taken &taken);

	uid_t owner_;
};

// [a-z0-9_-], 1 to 32 characters: names end up in file names
// (STATE_DIR/services/NAME.state), so they must not hold "/" or "..".
bool valid_service_name(const char *name);

} // namespace ilpd
