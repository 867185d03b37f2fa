// import_test — file_transaction (all files or none), PKCS#12 in and out, and
// certificate_import's choices: where a certificate goes, with which key, and
// the refusal to drop chain certificates (docs/design.md §4.2).
#include "test_pki.hpp"

#include "tls/certificate_import.hpp"
#include "tls/file_transaction.hpp"
#include "tls/pem_io.hpp"
#include "tls/pkcs12_io.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::string error;
    return read_file(path, error).value_or("");
}

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

mode_t mode_of(const std::string& path) {
    struct stat st{};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777;
}

struct fixture {
    pki ca;
    temp_dir dir;
    leaf_options named(const std::string& n) const {
        leaf_options o;
        o.cn = n;
        o.dns = {n};
        return o;
    }
    void write(const std::string& name, const std::string& bytes, mode_t mode = 0600) {
        std::string error;
        BOOST_REQUIRE_MESSAGE(write_file(dir.file(name), bytes, mode, false, error), error);
    }
    std::optional<import_result> import(const std::string& input, std::string& error, const std::string& key = {},
                                        std::optional<std::string> password = std::nullopt, bool force = false) {
        import_request r;
        r.input = dir.file(input);
        r.store_dir = dir.path;
        if (!key.empty()) r.key_file = dir.file(key);
        r.password = [password] { return password; };
        r.force = force;
        return prepare_import(r, error);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(file_transactions, fixture)

BOOST_AUTO_TEST_CASE(nothing_is_named_until_commit_and_all_names_appear_together) {
    std::string error;
    {
        file_transaction t;
        BOOST_REQUIRE(t.stage(dir.file("a.key"), "key", private_key_mode, true, error));
        BOOST_REQUIRE(t.stage(dir.file("a.csr"), "csr", public_file_mode, false, error));
        BOOST_TEST(!fs::exists(dir.file("a.key")));
        BOOST_TEST(!fs::exists(dir.file("a.csr")));
        BOOST_REQUIRE_MESSAGE(t.commit(error), error);
    }
    BOOST_TEST(slurp(dir.file("a.key")) == "key");
    BOOST_TEST(slurp(dir.file("a.csr")) == "csr");
    BOOST_TEST(mode_of(dir.file("a.key")) == 0600u);
    BOOST_TEST(mode_of(dir.file("a.csr")) == 0644u);
    BOOST_TEST(names_in(dir.path) == (std::vector<std::string>{"a.csr", "a.key"}));  // no temporaries left
}

BOOST_AUTO_TEST_CASE(an_uncommitted_transaction_leaves_nothing) {
    std::string error;
    {
        file_transaction t;
        BOOST_REQUIRE(t.stage(dir.file("a.key"), "key", private_key_mode, true, error));
    }
    BOOST_TEST(names_in(dir.path).empty());
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_staged_fails_before_anything_is_written) {
    // The seed's case: the key can be written, the request cannot (no such directory).
    std::string error;
    file_transaction t;
    BOOST_REQUIRE(t.stage(dir.file("a.key"), "key", private_key_mode, true, error));
    BOOST_TEST(!t.stage(dir.file("missing/a.csr"), "csr", public_file_mode, false, error));
    BOOST_TEST(error.find("missing/a.csr") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_commit_undoes_the_names_already_given_and_restores_replaced_files) {
    write("cert.pem", "old");
    std::string error;
    file_transaction t;
    BOOST_REQUIRE(t.stage(dir.file("cert.pem"), "new", public_file_mode, false, error));
    BOOST_REQUIRE(t.stage(dir.file("b.key"), "key", private_key_mode, true, error));
    write("b.key", "someone else's");  // appears between stage and commit
    BOOST_TEST(!t.commit(error));
    BOOST_TEST(error.find("already exists") != std::string::npos);
    BOOST_TEST(slurp(dir.file("cert.pem")) == "old");
    BOOST_TEST(slurp(dir.file("b.key")) == "someone else's");
}

BOOST_AUTO_TEST_CASE(a_replaced_file_gets_the_new_mode_and_the_old_inode_is_not_written) {
    write("c.pem", "old", 0644);
    std::string error;
    // A reader that opened the old file keeps reading the old bytes whole.
    std::ifstream reader(dir.file("c.pem"));
    BOOST_REQUIRE(write_file(dir.file("c.pem"), "new contents", private_key_mode, false, error));
    std::string seen;
    std::getline(reader, seen);
    BOOST_TEST(seen == "old");
    BOOST_TEST(slurp(dir.file("c.pem")) == "new contents");
    BOOST_TEST(mode_of(dir.file("c.pem")) == 0600u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(pkcs12, fixture)

BOOST_AUTO_TEST_CASE(round_trip_keeps_key_leaf_chain_and_friendly_name) {
    const auto leaf = ca.leaf(named("mail1.contoso.com"), ec_key());
    std::vector<x509_ptr> chain;
    chain.push_back(copy(ca.root.cert.get()));          // given out of order: root first
    chain.push_back(copy(ca.intermediate.cert.get()));
    std::string error;
    const std::string der = make_pkcs12(*leaf.key, *leaf.cert, chain, "mail1", "s3cret", error);
    BOOST_REQUIRE_MESSAGE(!der.empty(), error);
    BOOST_TEST(is_pkcs12(der));
    BOOST_TEST(!pkcs12_password_ok(der, "wrong"));
    BOOST_TEST(pkcs12_password_ok(der, "s3cret"));
    BOOST_TEST(!parse_pkcs12(der, "wrong", error));
    BOOST_TEST(error == "wrong password for the PKCS#12 file");
    auto back = parse_pkcs12(der, "s3cret", error);
    BOOST_REQUIRE_MESSAGE(back, error);
    BOOST_TEST(X509_cmp(back->leaf.get(), leaf.cert.get()) == 0);
    BOOST_TEST(EVP_PKEY_eq(back->key.get(), leaf.key.get()) == 1);
    BOOST_TEST(back->friendly_name == "mail1");
    BOOST_REQUIRE(back->chain.size() == 2u);  // put in chain order
    BOOST_TEST(X509_cmp(back->chain[0].get(), ca.intermediate.cert.get()) == 0);
    BOOST_TEST(X509_cmp(back->chain[1].get(), ca.root.cert.get()) == 0);
}

BOOST_AUTO_TEST_CASE(pem_and_der_certificates_are_not_pkcs12) {
    const auto leaf = ca.leaf(named("mail1.contoso.com"));
    BOOST_TEST(!is_pkcs12(certificate_pem(*leaf.cert)));
    BOOST_TEST(!is_pkcs12("garbage"));
}

BOOST_AUTO_TEST_CASE(order_chain_puts_unrelated_certificates_last) {
    const auto leaf = ca.leaf(named("a.contoso.com"));
    pki other;
    std::vector<x509_ptr> certs;
    certs.push_back(copy(other.root.cert.get()));
    certs.push_back(copy(ca.intermediate.cert.get()));
    const auto ordered = order_chain(*leaf.cert, std::move(certs));
    BOOST_REQUIRE(ordered.size() == 2u);
    BOOST_TEST(X509_cmp(ordered[0].get(), ca.intermediate.cert.get()) == 0);
    BOOST_TEST(X509_cmp(ordered[1].get(), other.root.cert.get()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(import, fixture)

BOOST_AUTO_TEST_CASE(pkcs12_goes_into_one_file_with_its_key_mode_0600) {
    const auto leaf = ca.leaf(named("mail1.contoso.com"), ec_key());
    std::string error;
    write("in.pfx", make_pkcs12(*leaf.key, *leaf.cert, ca.chain(), "", "pw", error));
    auto r = import("in.pfx", error, {}, std::string("pw"));
    BOOST_REQUIRE_MESSAGE(r, error);
    BOOST_TEST(r->format == "PKCS#12");
    BOOST_TEST(r->certificate_path == dir.file("mail1.contoso.com.pem"));
    BOOST_TEST(r->key_path == r->certificate_path);
    BOOST_TEST(!fs::exists(r->certificate_path));  // staged only
    BOOST_REQUIRE_MESSAGE(r->files.commit(error), error);
    BOOST_TEST(mode_of(r->certificate_path) == 0600u);
    std::vector<load_problem> problems;
    const auto store = certificate_store::load({{dir.path, {}, certificate_use::server}}, {}, problems);
    BOOST_TEST(problems.empty());
    BOOST_REQUIRE(store.all().size() == 1u);
    BOOST_TEST(store.all()[0]->chain.size() == 1u);
}

BOOST_AUTO_TEST_CASE(pkcs12_without_a_password_to_be_had_is_refused_with_the_way_to_give_one) {
    const auto leaf = ca.leaf(named("mail1.contoso.com"));
    std::string error;
    write("in.pfx", make_pkcs12(*leaf.key, *leaf.cert, {}, "", "pw", error));
    BOOST_TEST(!import("in.pfx", error));
    BOOST_TEST(error.find("--password-file") != std::string::npos);
    BOOST_TEST(!import("in.pfx", error, {}, std::string("nope")));
    BOOST_TEST(error.find("wrong password") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(certificate_with_a_separate_key_file_as_certbot_writes_them) {
    const auto leaf = ca.leaf(named("mx.fabrikam.com"));
    write("fullchain.pem", certificate_pem(*leaf.cert) + certificate_pem(*ca.intermediate.cert), 0644);
    write("privkey.pem", private_key_pem(*leaf.key));
    std::string error;
    auto r = import("fullchain.pem", error, "privkey.pem");
    BOOST_REQUIRE_MESSAGE(r, error);
    BOOST_TEST(r->certificate_path == dir.file("mx.fabrikam.com.pem"));
    BOOST_TEST(r->cert->chain.size() == 1u);
    const auto other = ca.leaf(named("other.fabrikam.com"));
    write("wrong.pem", private_key_pem(*other.key));
    BOOST_TEST(!import("fullchain.pem", error, "wrong.pem"));
    BOOST_TEST(error.find("belongs to none of the certificates") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_key_made_by_a_request_here_keeps_the_certificate_beside_it) {
    const auto leaf = ca.leaf(named("mail1.contoso.com"));
    write("req.key", private_key_pem(*leaf.key));
    write("issued.pem", certificate_pem(*leaf.cert), 0644);
    std::string error;
    auto r = import("issued.pem", error);
    BOOST_REQUIRE_MESSAGE(r, error);
    BOOST_TEST(r->certificate_path == dir.file("req.pem"));
    BOOST_TEST(r->key_path == dir.file("req.key"));
}

BOOST_AUTO_TEST_CASE(a_leaf_only_reimport_would_drop_the_intermediate_and_is_refused_unless_forced) {
    const auto leaf = ca.leaf(named("mail1.contoso.com"));
    write("req.key", private_key_pem(*leaf.key));
    write("req.pem", certificate_pem(*leaf.cert) + certificate_pem(*ca.intermediate.cert), 0644);
    write("leaf.pem", certificate_pem(*leaf.cert), 0644);
    std::string error;
    BOOST_TEST(!import("leaf.pem", error));
    BOOST_TEST(error.find("--force") != std::string::npos);
    BOOST_TEST(error.find("dsproxy test intermediate") != std::string::npos);
    auto forced = import("leaf.pem", error, {}, std::nullopt, /*force=*/true);
    BOOST_REQUIRE_MESSAGE(forced, error);
    BOOST_TEST(forced->dropped_chain.size() == 1u);
    // The same chain again is not a drop.
    write("again.pem", certificate_pem(*leaf.cert) + certificate_pem(*ca.intermediate.cert), 0644);
    auto again = import("again.pem", error);
    BOOST_REQUIRE_MESSAGE(again, error);
    BOOST_TEST(again->replaces);
    BOOST_TEST(again->dropped_chain.empty());
}

BOOST_AUTO_TEST_CASE(a_self_signed_root_left_out_is_not_a_dropped_chain_certificate) {
    // Partners take the root from their own trust store (RFC 8446 §4.4.2 lets
    // a server omit it), so leaving it out breaks no chain check: the
    // cert_cli case of a leaf-only DER over a leaf + root PEM.
    const auto leaf = ca.leaf(named("mail1.contoso.com"));
    write("req.key", private_key_pem(*leaf.key));
    write("req.pem", certificate_pem(*leaf.cert) + certificate_pem(*ca.intermediate.cert) +
                         certificate_pem(*ca.root.cert), 0644);
    write("chain.pem", certificate_pem(*leaf.cert) + certificate_pem(*ca.intermediate.cert), 0644);
    std::string error;
    auto r = import("chain.pem", error);
    BOOST_REQUIRE_MESSAGE(r, error);
    BOOST_TEST(r->replaces);
    BOOST_TEST(r->dropped_chain.empty());
    // The intermediate still counts when both go.
    write("leaf.pem", certificate_pem(*leaf.cert), 0644);
    BOOST_TEST(!import("leaf.pem", error));
    BOOST_TEST(error.find("dsproxy test intermediate") != std::string::npos);
    BOOST_TEST(error.find("dsproxy test root") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(file_names_come_only_from_host_names) {
    certificate_info info;
    info.dns_names = {"../../etc/passwd", "*.contoso.com"};
    BOOST_TEST(certificate_stem(info) == "wildcard.contoso.com");
    info.dns_names = {"a/b"};
    BOOST_TEST(certificate_stem(info) == "certificate");
    info.dns_names.clear();
    info.common_names = {"Mail.Contoso.COM"};
    BOOST_TEST(certificate_stem(info) == "mail.contoso.com");
}

BOOST_AUTO_TEST_SUITE_END()
