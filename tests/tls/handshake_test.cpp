// handshake_test — real TLS handshakes in memory (a BIO pair) between
// server_context and client_context: SNI selection, ECDSA/RSA choice,
// client certificate request, hardened settings, shared ticket keys.
#include "test_pki.hpp"

#include "tls/client_context.hpp"
#include "tls/pem_io.hpp"
#include "tls/peer_verification.hpp"
#include "tls/server_context.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;

namespace {

struct connection {
    ssl_ptr server, client;
    bool ok = false;
};

// Drives both ends until both finish or one fails.
connection handshake(const server_context& sc, const client_context& cc, const std::string& sni,
                     const credential* client_cert = nullptr, SSL_SESSION* resume = nullptr,
                     const char* client_sigalgs = nullptr, int client_max = 0) {
    connection c;
    c.server = sc.new_session();
    std::string error;
    c.client = cc.new_session(sni, client_cert, error);
    BOOST_REQUIRE(c.client);
    if (resume) SSL_set_session(c.client.get(), resume);
    if (client_sigalgs) SSL_set1_sigalgs_list(c.client.get(), client_sigalgs);
    if (client_max) SSL_set_max_proto_version(c.client.get(), client_max);
    BIO *server_bio = nullptr, *client_bio = nullptr;
    BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
    SSL_set_bio(c.server.get(), server_bio, server_bio);
    SSL_set_bio(c.client.get(), client_bio, client_bio);
    SSL_set_accept_state(c.server.get());
    bool server_done = false, client_done = false;
    for (int i = 0; i < 50 && !(server_done && client_done); ++i) {
        for (auto* s : {c.client.get(), c.server.get()}) {
            bool& done = s == c.client.get() ? client_done : server_done;
            if (done) continue;
            const int rc = SSL_do_handshake(s);
            if (rc == 1) { done = true; continue; }
            const int err = SSL_get_error(s, rc);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return c;
        }
    }
    // Let the client read post-handshake messages (TLS 1.3 tickets).
    char buf[16];
    SSL_read(c.client.get(), buf, sizeof buf);
    ERR_clear_error();
    c.ok = server_done && client_done;
    return c;
}

struct fixture {
    pki ca;
    std::shared_ptr<const trust_store> trust = std::make_shared<const trust_store>(trust_store::from({ca.root.cert.get()}));
    std::shared_ptr<certificate_store> store = std::make_shared<certificate_store>();
    std::shared_ptr<const credential> mail_ec, mail_rsa, fabrikam;

    fixture() {
        mail_ec = add("mail1.contoso.com", ec_key());
        mail_rsa = add("mail1.contoso.com", rsa_key());
        fabrikam = add("smtp.fabrikam.com", ec_key());
    }
    std::shared_ptr<const credential> add(const std::string& name, evp_pkey_ptr key) {
        leaf_options o;
        o.cn = name;
        o.dns = {name};
        auto c = credential_of(ca.leaf(o, std::move(key)), ca.chain(), trust.get());
        store->add(c);
        return c;
    }
    server_context server(server_settings s = {}) const {
        if (s.certificate.fqdn.empty()) s.certificate.fqdn = "mail1.contoso.com";
        std::string error;
        auto sc = server_context::create(store, s, error);
        BOOST_REQUIRE_MESSAGE(sc, error);
        return std::move(*sc);
    }
    client_context client(tls_settings t = {}) const {
        std::string error;
        auto cc = client_context::create({t, trust}, error);
        BOOST_REQUIRE_MESSAGE(cc, error);
        return std::move(*cc);
    }
    static std::string served(const connection& c) {
        return describe(*SSL_get0_peer_certificate(c.client.get())).sha256;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(handshakes, fixture)

BOOST_AUTO_TEST_CASE(sni_selects_the_certificate_and_fqdn_is_the_default) {
    const auto sc = server();
    const auto cc = client();
    auto c = handshake(sc, cc, "smtp.fabrikam.com");
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(served(c) == fabrikam->info.sha256);
    c = handshake(sc, cc, "");
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(served(c) == mail_ec->info.sha256);
    c = handshake(sc, cc, "unknown.example.org");
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(served(c) == mail_ec->info.sha256);
    BOOST_TEST(SSL_version(c.client.get()) == TLS1_3_VERSION);
    BOOST_TEST(SSL_get_negotiated_group(c.client.get()) == NID_X25519);
}

BOOST_AUTO_TEST_CASE(rsa_for_clients_without_ecdsa_signature_algorithms) {
    const auto sc = server();
    const auto cc = client();
    auto c = handshake(sc, cc, "mail1.contoso.com", nullptr, nullptr, "RSA-PSS+SHA256:RSA+SHA256");
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(served(c) == mail_rsa->info.sha256);
    c = handshake(sc, cc, "mail1.contoso.com", nullptr, nullptr, nullptr, TLS1_2_VERSION);
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(served(c) == mail_ec->info.sha256);
    BOOST_TEST(std::string(SSL_get_cipher_name(c.client.get())).find("ECDHE-ECDSA") == 0u);
}

BOOST_AUTO_TEST_CASE(client_certificate_requested_not_required_and_verified_after) {
    const auto sc = server();
    const auto cc = client();
    auto c = handshake(sc, cc, "mail1.contoso.com");
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(SSL_get0_peer_certificate(c.server.get()) == nullptr);
    verify_request as_client;
    as_client.role = peer_role::client;
    as_client.domain = dsproxy::matching::reference_name::parse("fabrikam.com");
    BOOST_TEST(verify_peer(*c.server, *trust, as_client).chain == chain_verdict::no_certificate);

    c = handshake(sc, cc, "mail1.contoso.com", fabrikam.get());
    BOOST_REQUIRE(c.ok);
    const auto r = verify_peer(*c.server, *trust, as_client);
    BOOST_TEST(r.passed, r.reason);
    BOOST_TEST(r.domain_match->matched_name == "smtp.fabrikam.com");
}

BOOST_AUTO_TEST_CASE(untrusted_server_completes_the_handshake_and_fails_after) {
    pki other;
    const auto sc = server();
    std::string error;
    auto cc = client_context::create({{}, std::make_shared<const trust_store>(trust_store::from({other.root.cert.get()}))}, error);
    BOOST_REQUIRE(cc);
    auto c = handshake(sc, *cc, "mail1.contoso.com");
    BOOST_REQUIRE(c.ok);
    BOOST_TEST(SSL_get_verify_result(c.client.get()) != X509_V_OK);  // recorded during the handshake
    const auto r = verify_peer(*c.client, trust_store::from({other.root.cert.get()}), {});
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::untrusted);
    BOOST_TEST(verify_peer(*c.client, *trust, {}).passed);
}

BOOST_AUTO_TEST_CASE(no_certificate_for_the_listener) {
    server_settings s;
    s.certificate.fqdn = "mx.northwind.example";
    const auto sc = server(s);
    const auto sel = sc.default_selection(std::time(nullptr));
    BOOST_TEST(!sel);
    BOOST_TEST(sel.reason.find("mx.northwind.example") != std::string::npos);
    BOOST_TEST(!handshake(sc, client(), "").ok);
    s.certificate.fallback = fallback_mode::any;
    BOOST_TEST(handshake(server(s), client(), "").ok);
}

BOOST_AUTO_TEST_CASE(hardened_settings) {
    const auto sc = server();
    const auto opts = SSL_CTX_get_options(sc.native());
    BOOST_TEST((opts & SSL_OP_NO_COMPRESSION) != 0u);
    BOOST_TEST((opts & SSL_OP_NO_RENEGOTIATION) != 0u);
    BOOST_TEST((opts & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0u);
    BOOST_TEST(SSL_CTX_get_num_tickets(sc.native()) == 0u);
    BOOST_TEST(!handshake(sc, client(), "", nullptr, nullptr, nullptr, TLS1_1_VERSION).ok);
    server_settings s;
    s.tls.min_version = TLS1_3_VERSION;
    BOOST_TEST(!handshake(server(s), client(), "", nullptr, nullptr, nullptr, TLS1_2_VERSION).ok);
    tls_settings bad;
    bad.ciphers = "RC4-MD5";
    std::string error;
    BOOST_TEST(!client_context::create({bad, nullptr}, error));
    BOOST_TEST(error.find("RC4-MD5") != std::string::npos);
    BOOST_TEST(!parse_tls_version("1.1"));
    BOOST_TEST(*parse_tls_version("TLSv1.3") == TLS1_3_VERSION);
}

BOOST_AUTO_TEST_CASE(a_cipher_list_names_its_tls12_ciphers_only) {
    std::string error;
    const auto one = tls12_cipher_names("ECDHE-ECDSA-CHACHA20-POLY1305", error);
    BOOST_TEST_REQUIRE(one.has_value(), error);
    BOOST_TEST(*one == std::vector<std::string>{"ECDHE-ECDSA-CHACHA20-POLY1305"});  // no TLS 1.3 suite in it
    const auto defaults = tls12_cipher_names(std::string(default_tls12_ciphers), error);
    BOOST_TEST_REQUIRE(defaults.has_value(), error);
    BOOST_TEST(defaults->size() == 6u);
    BOOST_TEST(!tls12_cipher_names("RC4-MD5:NOT-A-CIPHER", error));
    BOOST_TEST(error.find("no usable TLS 1.2 cipher") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(shared_ticket_key_file_resumes_across_instances_and_rotates) {
    temp_dir dir;
    const std::string path = dir.file("tickets.key");
    std::string error;
    BOOST_REQUIRE(rotate_ticket_key_file(path, 2, error));
    auto keys = ticket_keys::load(path, false, error);
    BOOST_REQUIRE_MESSAGE(keys, error);
    server_settings s;
    s.tls.tls13_tickets = 1;
    s.tickets = std::make_shared<const ticket_keys>(*keys);
    const auto a = server(s);
    const auto b = server(s);
    const auto cc = client();
    auto first = handshake(a, cc, "mail1.contoso.com");
    BOOST_REQUIRE(first.ok);
    SSL_SESSION* session = SSL_get1_session(first.client.get());
    BOOST_REQUIRE(SSL_SESSION_is_resumable(session));
    auto second = handshake(b, cc, "mail1.contoso.com", nullptr, session);
    BOOST_REQUIRE(second.ok);
    BOOST_TEST(SSL_session_reused(second.client.get()) == 1);

    // Rotation: the old key still decrypts after one rotation, not after two.
    BOOST_REQUIRE(rotate_ticket_key_file(path, 2, error));
    auto rotated = ticket_keys::load(path, false, error);
    BOOST_REQUIRE(rotated && rotated->keys().size() == 2u);
    BOOST_TEST((rotated->keys()[1].name == keys->keys()[0].name));
    server_settings r = s;
    r.tickets = std::make_shared<const ticket_keys>(*rotated);
    BOOST_TEST(SSL_session_reused(handshake(server(r), cc, "mail1.contoso.com", nullptr, session).client.get()) == 1);
    BOOST_REQUIRE(rotate_ticket_key_file(path, 2, error));
    auto a2 = server(s);
    a2.set_ticket_keys(std::make_shared<const ticket_keys>(*ticket_keys::load(path, false, error)));
    BOOST_TEST(SSL_session_reused(handshake(a2, cc, "mail1.contoso.com", nullptr, session).client.get()) == 0);
    SSL_SESSION_free(session);

    // Without tickets configured, TLS 1.3 handshakes leave nothing to resume.
    auto none = handshake(server(), cc, "mail1.contoso.com");
    SSL_SESSION* no_ticket = SSL_get1_session(none.client.get());
    BOOST_TEST(!SSL_SESSION_is_resumable(no_ticket));
    SSL_SESSION_free(no_ticket);
}

BOOST_AUTO_TEST_CASE(ticket_key_file_refusals) {
    temp_dir dir;
    std::string error;
    BOOST_REQUIRE(write_file(dir.file("short"), std::string(79, 'x'), 0600, true, error));
    BOOST_TEST(!ticket_keys::load(dir.file("short"), false, error));
    BOOST_TEST(error.find("80 bytes") != std::string::npos);
    BOOST_REQUIRE(write_file(dir.file("open"), std::string(80, 'x'), 0644, true, error));
    BOOST_TEST(!ticket_keys::load(dir.file("open"), false, error));
    BOOST_TEST(error.find("readable") != std::string::npos);
    BOOST_TEST(ticket_keys::load(dir.file("open"), true, error).has_value());
}

BOOST_AUTO_TEST_CASE(sni_and_sigalg_parsers_refuse_malformed_input) {
    const unsigned char sni[] = {0, 8, 0, 0, 5, 'a', '.', 'b', 'c', 'd'};
    BOOST_TEST(parse_server_name(sni, sizeof sni) == "a.bcd");
    BOOST_TEST(parse_server_name(sni, 4).empty());
    const unsigned char liar[] = {0, 8, 0, 0, 50, 'a'};
    BOOST_TEST(parse_server_name(liar, sizeof liar).empty());
    const unsigned char algs[] = {0, 4, 0x08, 0x04, 0x04, 0x03};
    BOOST_TEST(offers_ecdsa(algs, sizeof algs));
    const unsigned char rsa_only[] = {0, 4, 0x08, 0x04, 0x04, 0x01};
    BOOST_TEST(!offers_ecdsa(rsa_only, sizeof rsa_only));
    BOOST_TEST(!offers_ecdsa(algs, 3));
}

BOOST_AUTO_TEST_SUITE_END()
