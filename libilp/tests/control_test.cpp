// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The "ilp" family client where the module is absent (this build machine's
// kernel cannot load it; the selftests in the VM cover the loaded case).
#include <cstring>
#include <iterator>
#include <string>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/control.hpp>
#include <ilp/family.hpp>

class ControlTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ControlTest);
	CPPUNIT_TEST(control__without_module_says_how_to_load_it);
	CPPUNIT_TEST(drop_reason_name__wire_names_then_the_rest);
	CPPUNIT_TEST(stats__one_drop_counter_per_reason);
	CPPUNIT_TEST_SUITE_END();

public:
	void control__without_module_says_how_to_load_it()
	{
		if (ilp::loaded_af("/sys/module/ilp/parameters/family"))
			return; // module present: nothing to check here
		try {
			ilp::Control ctl;
			CPPUNIT_FAIL("Control() succeeded without the module");
		} catch (const ilp::ModuleNotLoaded &e) {
			CPPUNIT_ASSERT_EQUAL(ENOENT, e.code().value());
			CPPUNIT_ASSERT(std::strstr(e.what(), "modprobe ilp"));
		}
	}

	void drop_reason_name__wire_names_then_the_rest()
	{
		// The names of docs/protocol.md, in enum ilp_drop_reason order.
		const char *const want[] = {
		    "psp_truncated",
		    "psp_version",
		    "psp_hdr_ext_len",
		    "psp_always_one_bit",
		    "psp_next_header",
		    "psp_spi_zero",
		    "psp_crypt_offset",
		    "psp_no_master_key",
		    "psp_unknown_spi",
		    "psp_auth_failed",
		    "ilp_truncated",
		    "ilp_version",
		    "ilp_hdr_len",
		    "ilp_hdr_past_end",
		    "tlv_truncated",
		    "tlv_unknown_critical",
		    "nomem",
		    "no_listener",
		    "decided",
		    "no_peer",
		    "no_tx_sa",
		    "no_route",
		    "too_big",
		    "no_socket",
		    "rcvbuf",
		    "mtu",
		    "sa_peer_mismatch",
		    "psp_auth_limited",
		    "tx_iv_spent",
		};
		CPPUNIT_ASSERT_EQUAL(std::size_t(__ILP_DROP_MAX), std::size(want));
		for (unsigned r = 0; r < __ILP_DROP_MAX; r++)
			CPPUNIT_ASSERT_EQUAL(std::string(want[r]),
					     std::string(ilp::drop_reason_name(r)));
		CPPUNIT_ASSERT_EQUAL(std::string("psp_auth_failed"),
				     std::string(ilp::drop_reason_name(ILP_DROP_PSP_AUTH)));
		CPPUNIT_ASSERT_EQUAL(std::string("no_tx_sa"),
				     std::string(ilp::drop_reason_name(ILP_DROP_NO_TX_SA)));
		CPPUNIT_ASSERT_EQUAL(std::string("unknown"),
				     std::string(ilp::drop_reason_name(__ILP_DROP_MAX)));
		CPPUNIT_ASSERT_EQUAL(std::string("unknown"),
				     std::string(ilp::drop_reason_name(~0u)));
	}

	void stats__one_drop_counter_per_reason()
	{
		ilp::Stats st;
		CPPUNIT_ASSERT_EQUAL(std::size_t(__ILP_DROP_MAX), st.drops.size());
		for (auto d : st.drops)
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), d);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.tx_packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.cache_hit + st.cache_missed +
							   st.cache_lost + st.cache_evicted);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), st.cache_entries + st.cache_capacity);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ControlTest);
