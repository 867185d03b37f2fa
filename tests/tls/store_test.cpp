// store_test — loading certificate+key files and every refusal of docs/design.md §4.1.
#include "test_pki.hpp"

#include "tls/pem_io.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;

namespace {

struct fixture {
    pki ca;
    temp_dir dir;
    trust_store trust = trust_store::from({ca.root.cert.get()});

    static leaf_options named(const std::string& n) {
        leaf_options o;
        o.cn = n;
        o.dns = {n};
        return o;
    }
    void write(const std::string& name, const std::string& bytes, mode_t mode = 0600) {
        std::string error;
        BOOST_REQUIRE_MESSAGE(write_file(dir.file(name), bytes, mode, false, error), error);
    }
    void write_pair(const std::string& stem, const issued& i, bool chain = true, mode_t key_mode = 0600) {
        std::string pem = certificate_pem(*i.cert);
        if (chain) pem += certificate_pem(*ca.intermediate.cert);
        write(stem + ".pem", pem, 0644);
        write(stem + ".key", private_key_pem(*i.key), key_mode);
    }
    certificate_store load(std::vector<load_problem>& problems, store_options o = {}) {
        o.trust = &trust;
        return certificate_store::load({{dir.path, {}, certificate_use::server}}, o, problems);
    }
    static bool has(const std::vector<load_problem>& p, store_error e) {
        for (const auto& x : p)
            if (x.error == e) return true;
        return false;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(store, fixture)

BOOST_AUTO_TEST_CASE(directory_with_chain_key_beside_and_key_inside) {
    write_pair("mail1", ca.leaf(named("mail1.contoso.com"), rsa_key()));
    const auto inside = ca.leaf(named("mail2.contoso.com"));
    write("mail2.pem", private_key_pem(*inside.key) + certificate_pem(*inside.cert), 0600);
    write("pending.key", private_key_pem(*ec_key()));  // a request waiting for its certificate
    write("pending.csr", "not a certificate");
    std::vector<load_problem> problems;
    const auto s = load(problems);
    BOOST_TEST(problems.empty());
    BOOST_REQUIRE(s.all().size() == 2u);
    BOOST_TEST(s.all()[0]->chain.size() == 1u);
    BOOST_TEST(s.all()[0]->chains_to_trust);
    BOOST_TEST(s.all()[0]->info.key.text() == "rsa:2048");
    BOOST_TEST(s.all()[1]->key_path == dir.file("mail2.pem"));
    BOOST_TEST(!s.all()[1]->chains_to_trust);  // no intermediate given
    BOOST_TEST(s.exact("mail1.contoso.com").size() == 1u);
}

BOOST_AUTO_TEST_CASE(single_file_source_with_explicit_key) {
    const auto leaf = ca.leaf(named("mail.contoso.com"));
    write("cert.crt", certificate_pem(*leaf.cert), 0644);
    write("secret", private_key_pem(*leaf.key));
    std::vector<load_problem> problems;
    auto s = certificate_store::load({{dir.file("cert.crt"), dir.file("secret"), certificate_use::server}}, {}, problems);
    BOOST_TEST(problems.empty());
    BOOST_TEST(s.all().size() == 1u);
}

BOOST_AUTO_TEST_CASE(refusals_are_named) {
    leaf_options v1 = named("v1.contoso.com");
    v1.v1 = true;
    write_pair("a_v1", ca.leaf(v1));
    write("b_nokey.pem", certificate_pem(*ca.leaf(named("nokey.contoso.com")).cert), 0644);
    auto mismatch = ca.leaf(named("mismatch.contoso.com"));
    write("c_mismatch.pem", certificate_pem(*mismatch.cert), 0644);
    write("c_mismatch.key", private_key_pem(*ec_key()));
    write_pair("d_weak", ca.leaf(named("weak.contoso.com"), rsa_key(1024)));
    leaf_options email = named("email.contoso.com");
    email.usage = eku::email;
    write_pair("e_eku", ca.leaf(email));
    write_pair("f_perm", ca.leaf(named("perm.contoso.com")), true, 0640);
    write("g_junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n", 0644);
    std::vector<load_problem> problems;
    const auto s = load(problems);
    BOOST_TEST(s.all().empty());
    BOOST_TEST(problems.size() == 7u);
    BOOST_TEST(has(problems, store_error::not_v3));
    BOOST_TEST(has(problems, store_error::no_private_key));
    BOOST_TEST(has(problems, store_error::key_mismatch));
    BOOST_TEST(has(problems, store_error::weak_rsa_key));
    BOOST_TEST(has(problems, store_error::eku_without_server_auth));
    BOOST_TEST(has(problems, store_error::key_file_permissions));
    BOOST_TEST(has(problems, store_error::no_certificate));
    for (const auto& p : problems) {
        BOOST_TEST(!p.path.empty());
        BOOST_TEST(!p.detail.empty());
    }
    BOOST_TEST(make_error_code(store_error::weak_rsa_key).message() == "RSA key shorter than 2048 bits");
}

BOOST_AUTO_TEST_CASE(readable_key_allowed_when_told) {
    write_pair("perm", ca.leaf(named("perm.contoso.com")), true, 0644);
    std::vector<load_problem> problems;
    store_options o;
    o.allow_readable_keys = true;
    BOOST_TEST(load(problems, o).all().size() == 1u);
    BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(unreadable_source) {
    std::vector<load_problem> problems;
    certificate_store::load({{dir.file("missing.pem"), {}, certificate_use::server}}, {}, problems);
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].error == store_error::unreadable_file);
    BOOST_TEST(problems[0].detail.find("missing.pem") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(client_only_use_needs_client_auth) {
    leaf_options server_only = named("mail.contoso.com");
    server_only.usage = eku::server;
    write_pair("client", ca.leaf(server_only));
    std::vector<load_problem> problems;
    certificate_store::load({{dir.path, {}, certificate_use::client}}, {}, problems);
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].error == store_error::eku_without_client_auth);
}

BOOST_AUTO_TEST_CASE(pkcs7_and_der_are_read) {
    const auto leaf = ca.leaf(named("mail.contoso.com"));
    unsigned char* der = nullptr;
    const int len = i2d_X509(leaf.cert.get(), &der);
    const std::string der_bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    BOOST_TEST(parse_certificates(der_bytes).size() == 1u);
    pkcs7_ptr p7(PKCS7_new());
    PKCS7_set_type(p7.get(), NID_pkcs7_signed);
    PKCS7_content_new(p7.get(), NID_pkcs7_data);
    PKCS7_add_certificate(p7.get(), leaf.cert.get());
    PKCS7_add_certificate(p7.get(), ca.intermediate.cert.get());
    unsigned char* p7der = nullptr;
    const int p7len = i2d_PKCS7(p7.get(), &p7der);
    const auto certs = parse_certificates(std::string(reinterpret_cast<char*>(p7der), static_cast<std::size_t>(p7len)));
    OPENSSL_free(p7der);
    BOOST_TEST(certs.size() == 2u);
}

BOOST_AUTO_TEST_CASE(private_keys_are_written_0600_and_never_overwritten) {
    std::string error;
    BOOST_REQUIRE(write_file(dir.file("k.key"), "secret", private_key_mode, true, error));
    struct stat st{};
    ::stat(dir.file("k.key").c_str(), &st);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(!write_file(dir.file("k.key"), "other", private_key_mode, true, error));
    BOOST_TEST(error.find("already exists") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
