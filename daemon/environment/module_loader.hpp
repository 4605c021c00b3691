// SPDX-License-Identifier: GPL-2.0-or-later
//
// Loading service modules (include/ilp/service.h) from ilpd's plugin
// directory.  A module runs inside ilpd with its privileges, so the loader
// is strict about where it comes from and what it declares: it refuses
// (LoadError, naming the file)
//  - a directory or module file that is group- or world-writable, or not
//    owned by root or by the daemon's own user: someone else could put
//    code into the daemon;
//  - a module without the ILP_SERVICE_SYMBOL symbol, of another ABI
//    version, or without init(), handle() or a valid name;
//  - a service ID of 0 or 0xffffffff (reserved), or an ID or name that a
//    loaded module already has.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include <ilp/service.h>

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

	const ilp_service &descriptor() const noexcept { return *desc_; }
	std::uint32_t id() const noexcept { return desc_->service_id; }
	std::string name() const { return desc_->name; }
	std::string description() const { return desc_->description ? desc_->description : ""; }
	// As given to the loader (not resolved), for messages and "service list".
	const std::filesystem::path &path() const noexcept { return path_; }

private:
	friend class ModuleLoader;
	struct Closer {
		void operator()(void *handle) const noexcept;
	};
	using Handle = std::unique_ptr<void, Closer>;

	Module(Handle handle, const ilp_service *desc, std::filesystem::path path);

	Handle handle_;
	const ilp_service *desc_; // inside the module: not ours to free
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
		std::set<std::uint32_t> ids;
		std::set<std::string> names;
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

	uid_t owner_;
};

// [a-z0-9_-], 1 to 32 characters: names end up in file names
// (STATE_DIR/services/NAME.state), so they must not hold "/" or "..".
bool valid_service_name(const char *name);

} // namespace ilpd
