// builder_test — keys, PKCS#10 requests, self-signed certificates and the
// first-start self-signed certificate (docs/design.md §4.1, §4.2).
#include "test_pki.hpp"

#include "tls/auto_selfsigned.hpp"
#include "tls/certificate_builder.hpp"
#include "tls/certificate_names.hpp"
#include "tls/certificate_selection.hpp"
#include "tls/pem_io.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;

namespace {

certificate_template contoso() {
    certificate_template t;
    t.subject = {{"C", "US"}, {"O", "Contoso Corp"}, {"CN", "mail1.contoso.com"}};
    t.dns_names = {"mail1.contoso.com", "contoso.com", "*.fabrikam.com"};
    return t;
}

std::string subject_text(X509_NAME* name) {
    char buf[256];
    X509_NAME_oneline(name, buf, sizeof buf);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(builder)

BOOST_AUTO_TEST_CASE(key_types) {
    BOOST_TEST(!key_spec::parse("rsa:1024"));
    BOOST_TEST(!key_spec::parse("ed25519"));
    for (const char* t : {"rsa:2048", "ec:p256", "ec:p384"}) {
        auto key = generate_key(*key_spec::parse(t));
        BOOST_REQUIRE(key);
        BOOST_TEST(describe_key(*key).text() == t);
    }
}

BOOST_AUTO_TEST_CASE(request_carries_subject_in_order_and_sans_and_verifies) {
    auto key = generate_key(*key_spec::parse("ec:p256"));
    std::string error;
    auto req = build_request(contoso(), *key, error);
    BOOST_REQUIRE_MESSAGE(req, error);
    BOOST_TEST(X509_REQ_verify(req.get(), key.get()) == 1);
    BOOST_TEST(subject_text(X509_REQ_get_subject_name(req.get())) == "/C=US/O=Contoso Corp/CN=mail1.contoso.com");
    x509_extension_stack_ptr exts(X509_REQ_get_extensions(req.get()));
    bool san = false;
    for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i)
        san |= OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts.get(), i))) == NID_subject_alt_name;
    BOOST_TEST(san);
    BOOST_TEST(request_pem(*req).rfind("-----BEGIN CERTIFICATE REQUEST-----", 0) == 0u);
    BOOST_TEST(request_der(*req)[0] == '\x30');
}

BOOST_AUTO_TEST_CASE(self_signed_is_v3_365_days_with_names_and_ekus) {
    auto key = generate_key(*key_spec::parse("rsa:2048"));
    std::string error;
    auto cert = build_self_signed(contoso(), *key, error);
    BOOST_REQUIRE_MESSAGE(cert, error);
    const auto info = describe(*cert);
    BOOST_TEST(info.version == 3);
    BOOST_TEST(info.self_signed);
    BOOST_TEST(info.not_after - info.not_before == 365 * day);
    BOOST_TEST(info.dns_names == contoso().dns_names);
    BOOST_TEST(info.subject == "CN=mail1.contoso.com,O=Contoso Corp,C=US");
    load_problem problem;
    auto c = make_credential(std::move(cert), {}, std::move(key), certificate_use::server, nullptr, problem);
    BOOST_REQUIRE(c);
    BOOST_TEST(c->server_auth);
    BOOST_TEST(c->client_auth);
}

BOOST_AUTO_TEST_CASE(utf8_subject_encoded_and_cloned_back) {
    certificate_template t;
    t.subject = {{"C", "ES"}, {"O", "Diversión de Bicicleta"}, {"DC", "example"}, {"CN", "mail1.example.es"}};
    auto key = generate_key(*key_spec::parse("ec:p256"));
    std::string error;
    auto cert = build_self_signed(t, *key, error);
    BOOST_REQUIRE_MESSAGE(cert, error);
    std::vector<std::string> skipped;
    BOOST_TEST(subject_of(*cert, skipped) == t.subject);
    BOOST_TEST(skipped.empty());
    BOOST_TEST(!make_name({{"XX", "y"}}, error));
}

BOOST_AUTO_TEST_CASE(auto_selfsigned_puts_a_long_fqdn_in_the_san_only) {
    // Issue 19 item 4: a listener fqdn over 64 characters failed with OpenSSL's
    // "string too long" and the listener ran without a certificate.
    temp_dir dir;
    certificate_store store;
    auto_selfsigned_request request;
    request.directory = dir.path;
    request.fqdn = std::string(40, 'a') + "." + std::string(30, 'b') + ".contoso.com";
    request.key_type = "ec:p256";
    std::string error;
    auto made = ensure_self_signed(store, request, std::time(nullptr), error);
    BOOST_REQUIRE_MESSAGE(made, error);
    BOOST_TEST((made->cert->info.dns_names == std::vector<std::string>{request.fqdn}));
    BOOST_TEST((made->cert->info.common_names == std::vector<std::string>{std::string(40, 'a')}));
}

BOOST_AUTO_TEST_CASE(auto_selfsigned_creates_once_for_fqdn_and_accepted_domains) {
    temp_dir dir;
    certificate_store store;
    auto_selfsigned_request request;
    request.directory = dir.path;
    request.fqdn = "mail1.contoso.com";
    request.accepted_domains = {"contoso.com", "bücher.de"};
    request.key_type = "ec:p256";
    std::string error;
    const auto now = std::time(nullptr);
    auto made = ensure_self_signed(store, request, now, error);
    BOOST_REQUIRE_MESSAGE(made, error);
    BOOST_TEST(made->created);
    struct stat st{};
    BOOST_REQUIRE(::stat(made->key_path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    const auto& info = made->cert->info;
    BOOST_TEST((info.dns_names == std::vector<std::string>{"mail1.contoso.com", "contoso.com", "xn--bcher-kva.de"}));
    BOOST_TEST(info.not_after - info.not_before == 365 * day);
    store.add(made->cert);
    auto again = ensure_self_signed(store, request, now, error);
    BOOST_REQUIRE(again);
    BOOST_TEST(!again->created);

    // The files load back into a store, and selection serves it for the fqdn.
    std::vector<load_problem> problems;
    const auto loaded = certificate_store::load({{dir.path, {}, certificate_use::server}}, {}, problems);
    BOOST_TEST(problems.empty());
    selection_policy p;
    p.fqdn = "mail1.contoso.com";
    const auto s = select_certificate(loaded, p, {}, now);
    BOOST_REQUIRE(s);
    BOOST_TEST(s.rank == candidate_rank::self_signed);
}

BOOST_AUTO_TEST_SUITE_END()

#include "tls/certificate_inputs.hpp"

BOOST_AUTO_TEST_SUITE(inputs)

BOOST_AUTO_TEST_CASE(cn_first_in_san_then_domains_then_accepted_domains) {
    certificate_inputs in;
    in.subject = "C=US, O=Contoso Corp, CN=mail1.contoso.com";
    in.domains = {"*.contoso.com", "Mail1.Contoso.com"};
    in.include_accepted_domains = true;
    in.accepted_domains = {"contoso.com", "bücher.de"};
    std::vector<std::string> errors;
    const auto p = prepare_certificate(in, errors);
    BOOST_REQUIRE(p);
    BOOST_TEST((p->tmpl.dns_names ==
                std::vector<std::string>{"mail1.contoso.com", "*.contoso.com", "contoso.com", "xn--bcher-kva.de"}));
    BOOST_TEST(output_stem(p->tmpl) == "mail1.contoso.com");
}

BOOST_AUTO_TEST_CASE(domain_lists_in_exchange_syntax_are_split) {
    // Issue 19 item 6: -DomainName a,b.
    certificate_inputs in;
    in.fqdn = "mail1.contoso.com";
    in.domains = {"autodiscover.contoso.com, mail.contoso.com,", "smtp.contoso.com"};
    std::vector<std::string> errors;
    const auto p = prepare_certificate(in, errors);
    BOOST_REQUIRE(p);
    BOOST_TEST((p->tmpl.dns_names == std::vector<std::string>{"mail1.contoso.com", "autodiscover.contoso.com",
                                                              "mail.contoso.com", "smtp.contoso.com"}));
}

BOOST_AUTO_TEST_CASE(a_clone_reports_its_key_type) {
    // Issue 19 item 5: an ECDSA source became an RSA clone.
    temp_dir dir;
    pki ca;
    leaf_options o;
    o.cn = "mx.contoso.com";
    o.dns = {"mx.contoso.com"};
    const auto leaf = ca.leaf(o, ec_key("P-384"));
    std::string error;
    BOOST_REQUIRE(write_file(dir.file("src.pem"), certificate_pem(*leaf.cert), 0644, true, error));
    certificate_inputs in;
    in.from = dir.file("src.pem");
    std::vector<std::string> errors;
    const auto p = prepare_certificate(in, errors);
    BOOST_REQUIRE(p);
    BOOST_TEST(p->source_key_type == "ec:p384");
    BOOST_TEST(key_spec::parse(p->source_key_type).has_value());
}

BOOST_AUTO_TEST_CASE(lookalike_cn_is_warned_and_never_put_in_the_san) {
    certificate_inputs in;
    in.subject = "CN=ma\xc3\xafl.contoso.com";
    in.domains = {"mail.contoso.com"};
    std::vector<std::string> errors;
    const auto p = prepare_certificate(in, errors);
    BOOST_REQUIRE(p);
    BOOST_TEST((p->tmpl.dns_names == std::vector<std::string>{"mail.contoso.com"}));
    BOOST_TEST(p->warnings.size() == 1u);
}

BOOST_AUTO_TEST_CASE(refusals_collected) {
    certificate_inputs in;
    std::vector<std::string> errors;
    BOOST_TEST(!prepare_certificate(in, errors));  // no subject, fqdn or clone
    in.fqdn = "mail1.contoso.com";
    in.include_accepted_domains = true;
    errors.clear();
    BOOST_TEST(!prepare_certificate(in, errors));  // accepted domains asked for, none given
    in.include_accepted_domains = false;
    in.subject = "C=XX, CN=" + std::string(70, 'a');
    in.domains = {"bad_name.com"};
    in.days = 0;
    errors.clear();
    BOOST_TEST(!prepare_certificate(in, errors));
    BOOST_TEST(errors.size() == 4u);
    in = {};
    in.subject = "O=Contoso Corp";
    errors.clear();
    BOOST_TEST(!prepare_certificate(in, errors));  // no DNS name at all
}

BOOST_AUTO_TEST_CASE(clone_copies_subject_and_names_not_the_key) {
    temp_dir dir;
    auto key = generate_key(*key_spec::parse("ec:p256"));
    std::string error;
    auto cert = build_self_signed(contoso(), *key, error);
    BOOST_REQUIRE(write_file(dir.file("old.pem"), certificate_pem(*cert), 0644, true, error));
    certificate_inputs in;
    in.from = dir.file("old.pem");
    std::vector<std::string> errors;
    auto p = prepare_certificate(in, errors);
    BOOST_REQUIRE(p);
    BOOST_TEST(p->tmpl.subject == contoso().subject);
    BOOST_TEST(p->tmpl.dns_names == contoso().dns_names);
    in.subject = "C=US, O=Contoso Corp, CN=mail2.contoso.com";  // the seed's third example overrides the subject
    p = prepare_certificate(in, errors);
    BOOST_REQUIRE(p);
    BOOST_TEST(p->tmpl.dns_names.front() == "mail2.contoso.com");
}

BOOST_AUTO_TEST_SUITE_END()
