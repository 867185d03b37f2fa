// dane_test — OpenSSL's DANE verification as tls/dane_verification drives
// it, over real in-memory handshakes (a BIO pair) with certificates made
// here: DANE-EE ignores names and dates (RFC 7672 §3.1.1), DANE-TA needs the
// chain and a reference identifier (§3.1.2, §3.2.2), any record of a
// rollover pair may match, a mismatch says why, the SNI is the base domain.
#include "test_pki.hpp"

#include "tls/client_context.hpp"
#include "tls/dane_verification.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;

namespace {

using bytes = std::vector<unsigned char>;

bytes der_of_cert(X509* c) {
    unsigned char* out = nullptr;
    const int n = i2d_X509(c, &out);
    BOOST_REQUIRE(n > 0);
    bytes b(out, out + n);
    OPENSSL_free(out);
    return b;
}

bytes der_of_spki(X509* c) {
    unsigned char* out = nullptr;
    const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &out);
    BOOST_REQUIRE(n > 0);
    bytes b(out, out + n);
    OPENSSL_free(out);
    return b;
}

bytes digest(const bytes& in, const EVP_MD* md) {
    bytes out(EVP_MAX_MD_SIZE);
    unsigned int n = 0;
    BOOST_REQUIRE(EVP_Digest(in.data(), in.size(), out.data(), &n, md, nullptr) == 1);
    out.resize(n);
    return out;
}

// The record the zone would publish for `c`.
dane_tlsa tlsa(std::uint8_t usage, std::uint8_t selector, std::uint8_t mtype, X509* c) {
    const bytes data = selector == 0 ? der_of_cert(c) : der_of_spki(c);
    dane_tlsa r{usage, selector, mtype, {}};
    r.data = mtype == 0 ? data : digest(data, mtype == 1 ? EVP_sha256() : EVP_sha512());
    return r;
}

// A bare server: presents `leaf` and `chain`, whatever the SNI.
struct server {
    ssl_ctx_ptr ctx{SSL_CTX_new(TLS_server_method())};
    server(const issued& leaf, const std::vector<X509*>& chain = {}) {
        BOOST_REQUIRE(SSL_CTX_use_certificate(ctx.get(), leaf.cert.get()) == 1);
        BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), leaf.key.get()) == 1);
        for (X509* c : chain) BOOST_REQUIRE(SSL_CTX_add1_chain_cert(ctx.get(), c) == 1);
    }
};

struct outcome {
    bool handshake = false;
    dane_result dane;
    std::string sni;  // what the server saw
};

client_context client() {
    std::string error;
    auto cc = client_context::create({}, error);
    BOOST_REQUIRE_MESSAGE(cc, error);
    return std::move(*cc);
}

outcome connect(const server& s, const dane_request& request) {
    const auto cc = client();
    std::string error;
    ssl_ptr c = cc.new_session("mx.example.com", nullptr, error, &request);
    BOOST_REQUIRE_MESSAGE(c, error);
    ssl_ptr srv(SSL_new(s.ctx.get()));
    BIO *sb = nullptr, *cb = nullptr;
    BIO_new_bio_pair(&sb, 0, &cb, 0);
    SSL_set_bio(srv.get(), sb, sb);
    SSL_set_bio(c.get(), cb, cb);
    SSL_set_accept_state(srv.get());
    bool sd = false, cd = false;
    for (int i = 0; i < 50 && !(sd && cd); ++i)
        for (SSL* x : {c.get(), srv.get()}) {
            bool& done = x == c.get() ? cd : sd;
            if (done) continue;
            const int rc = SSL_do_handshake(x);
            if (rc == 1) {
                done = true;
                continue;
            }
            const int err = SSL_get_error(x, rc);
            BOOST_REQUIRE(err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE);
        }
    ERR_clear_error();
    outcome o;
    o.handshake = sd && cd;
    if (const char* name = SSL_get_servername(srv.get(), TLSEXT_NAMETYPE_host_name)) o.sni = name;
    o.dane = dane_result_of(*c);
    return o;
}

dane_request request_for(std::vector<dane_tlsa> records, std::vector<std::string> names = {"mx.example.com", "example.com"}) {
    dane_request r;
    r.base_domain = "mx.example.com";
    r.reference_names = std::move(names);
    r.records = std::move(records);
    return r;
}

leaf_options named(std::string name, long not_after = 365 * day) {
    leaf_options o;
    o.cn = name;
    o.dns = {std::move(name)};
    o.not_after = not_after;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dane_verification)

BOOST_AUTO_TEST_CASE(dane_ee_matches_the_key_and_ignores_names_and_dates) {
    pki ca;
    // Self-signed, another name, expired yesterday: none of it matters for DANE-EE.
    const auto leaf = ca.self_signed(named("unrelated.example.net", -day / 2));
    const server s(leaf);
    for (std::uint8_t selector : {0, 1})
        for (std::uint8_t mtype : {0, 1, 2}) {
            const auto o = connect(s, request_for({tlsa(3, selector, mtype, leaf.cert.get())}));
            BOOST_TEST_REQUIRE(o.handshake);
            BOOST_TEST(o.dane.matched, "3 " << int(selector) << ' ' << int(mtype) << ": " << o.dane.reason);
            BOOST_TEST(o.dane.depth == 0);
            BOOST_TEST(o.dane.usage == 3);
            BOOST_TEST(o.dane.selector == selector);
            BOOST_TEST(o.dane.mtype == mtype);
            BOOST_TEST(o.sni == "mx.example.com");  // RFC 7672 §8.1: the base domain
        }
}

BOOST_AUTO_TEST_CASE(dane_ee_mismatch_is_not_authenticated) {
    pki ca;
    const auto leaf = ca.self_signed(named("mx.example.com"));
    const auto other = ca.self_signed(named("mx.example.com"));
    const server s(leaf);
    const auto o = connect(s, request_for({tlsa(3, 1, 1, other.cert.get())}));
    BOOST_TEST_REQUIRE(o.handshake);  // collect, then decide: the handshake itself goes on
    BOOST_TEST(!o.dane.matched);
    BOOST_TEST(o.dane.depth == -1);
    BOOST_TEST(!o.dane.reason.empty());
}

BOOST_AUTO_TEST_CASE(rollover_pair_matches_either_key) {
    pki ca;
    const auto old_leaf = ca.self_signed(named("mx.example.com"));
    const auto new_leaf = ca.self_signed(named("mx.example.com"));
    const auto records = std::vector{tlsa(3, 1, 1, old_leaf.cert.get()), tlsa(3, 1, 1, new_leaf.cert.get())};
    BOOST_TEST(connect(server(old_leaf), request_for(records)).dane.matched);
    BOOST_TEST(connect(server(new_leaf), request_for(records)).dane.matched);
}

BOOST_AUTO_TEST_CASE(dane_ta_needs_the_chain_and_a_reference_identifier) {
    pki ca;
    const auto anchor = tlsa(2, 0, 1, ca.intermediate.cert.get());
    const auto good = ca.leaf(named("mx.example.com"));
    auto o = connect(server(good, {ca.intermediate.cert.get()}), request_for({anchor}));
    BOOST_TEST(o.dane.matched, o.dane.reason);
    BOOST_TEST(o.dane.depth == 1);
    BOOST_TEST(o.dane.usage == 2);
    BOOST_TEST(o.dane.peer_name == "mx.example.com");

    // The next-hop domain is a reference identifier too (RFC 7672 §3.2.2).
    const auto domain_named = ca.leaf(named("example.com"));
    o = connect(server(domain_named, {ca.intermediate.cert.get()}), request_for({anchor}));
    BOOST_TEST(o.dane.matched, o.dane.reason);
    BOOST_TEST(o.dane.peer_name == "example.com");

    const auto wrong_name = ca.leaf(named("mx.attacker.example"));
    o = connect(server(wrong_name, {ca.intermediate.cert.get()}), request_for({anchor}));
    BOOST_TEST(!o.dane.matched);
    BOOST_TEST(!o.dane.reason.empty());

    const auto expired = ca.leaf(named("mx.example.com", -day / 2));
    o = connect(server(expired, {ca.intermediate.cert.get()}), request_for({anchor}));
    BOOST_TEST(!o.dane.matched);  // unlike DANE-EE, DANE-TA checks the chain's dates

    // The anchor's key (2 1 1) works as well as its certificate.
    o = connect(server(good, {ca.intermediate.cert.get()}), request_for({tlsa(2, 1, 1, ca.intermediate.cert.get())}));
    BOOST_TEST(o.dane.matched, o.dane.reason);
}

BOOST_AUTO_TEST_CASE(dane_ta_of_another_ca_does_not_match) {
    pki ca, other;
    const auto leaf = ca.leaf(named("mx.example.com"));
    const auto o = connect(server(leaf, {ca.intermediate.cert.get()}),
                           request_for({tlsa(2, 0, 1, other.intermediate.cert.get())}));
    BOOST_TEST(!o.dane.matched);
}

BOOST_AUTO_TEST_CASE(records_openssl_refuses_fail_the_attach) {
    const auto cc = client();
    std::string error;
    auto bad = request_for({dane_tlsa{3, 1, 1, bytes{1, 2, 3}}});  // not a SHA-256 digest
    BOOST_TEST(!cc.new_session("mx.example.com", nullptr, error, &bad));
    BOOST_TEST(!error.empty());
    error.clear();
    auto no_base = request_for({dane_tlsa{3, 1, 1, bytes(32, 1)}});
    no_base.base_domain.clear();
    BOOST_TEST(!cc.new_session("mx.example.com", nullptr, error, &no_base));
    BOOST_TEST(!error.empty());
}

BOOST_AUTO_TEST_CASE(without_dane_the_sni_is_the_host) {
    // The existing path is unchanged: no request, SNI = the host given.
    const auto cc = client();
    std::string error;
    ssl_ptr c = cc.new_session("mx.example.com", nullptr, error);
    BOOST_REQUIRE(c);
    BOOST_TEST(std::string(SSL_get_servername(c.get(), TLSEXT_NAMETYPE_host_name)) == "mx.example.com");
    BOOST_TEST(SSL_get0_dane_authority(c.get(), nullptr, nullptr) == -1);
}

BOOST_AUTO_TEST_SUITE_END()
