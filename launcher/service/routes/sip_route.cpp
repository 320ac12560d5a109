#include "routes/sip_route.h"

#include <gio/gio.h>

#include <condition_variable>

#include "routes/sip/address_allowlist.h"
#include "routes/sip/call_media.h"
#include "routes/sip/digest_auth.h"
#include "routes/sip/rtp_ports.h"
#include "routes/sip/sip_thread.h"

#define NUA_MAGIC_T void
#define NUA_HMAGIC_T void
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/url.h>

#include "json_log.h"
#include "net/net_thread.h"
#include "sip/sdp_offer_answer.h"

namespace clawvoice::launcher {

static const char *kRoute = "sip";

/* One INVITE dialog. Lives on the SIP thread only. */
struct SipRoute::Leg {
  nua_handle_t *nh = nullptr;
  std::string call_id;               /* the launcher's */
  std::string sip_call_id;           /* the Call-ID header */
  GSocket *socket = nullptr;
  guint16 rtp_port = 0;
  clawvoice::sip::NegotiatedMedia media;
  guint64 sdp_id = 0, sdp_version = 0;
  std::string answer;                /* the SDP of our 200 */
  sip::CallMedia elements;
  bool answered = false;             /* 200 sent */
  bool finished = false;             /* a final answer or BYE is out, or the dialog is gone */
  guint answer_timer = 0;
  std::string end_reason = "dialog terminated";
  bool outbound = false;             /* we placed it (POST /calls): INVITE out, 200 in */
};

/* Sofia's side: the thread, the nua agent and every dialog. */
struct SipRoute::Stack {
  SipRoute *route = nullptr;
  sip::SipThread thread;
  nua_t *nua = nullptr;
  std::string listen_host;
  guint16 port = 0;
  std::string public_host;
  std::string contact;               /* our Contact: the public address, as in the SDP */
  std::unique_ptr<sip::RtpPorts> ports;
  std::unique_ptr<sip::AddressAllowlist> allow;
  std::unique_ptr<sip::DigestAuth> auth;
  std::map<nua_handle_t *, Leg *> legs;
  std::map<std::string, Leg *> by_call;
  std::mutex shutdown_lock;
  std::condition_variable shutdown_done;
  bool shut_down = false;

  static void on_event(nua_event_t event, int status, char const *phrase, nua_t *nua, nua_magic_t *magic,
                       nua_handle_t *nh, nua_hmagic_t *hmagic, sip_t const *sip, tagi_t tags[]);
  void on_invite(nua_handle_t *nh, Leg *leg, const sip_t *sip);
  void on_reinvite(Leg *leg, const sip_t *sip);
  void refuse(nua_handle_t *nh, int status, const char *phrase, const std::string &why, const std::string &peer,
              const std::string &challenge = "");
  void answer(Leg *leg);
  void invite(const std::string &call_id, const std::string &to);
  void on_invite_response(Leg *leg, int status, const char *phrase, const sip_t *sip);
  void hang_up(const std::string &call_id, CallState state);
  void forget(Leg *leg);
};

namespace {

std::string source_of(nua_t *nua, guint16 *port)
{
  msg_t *msg = nua_current_request(nua);
  su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : nullptr;
  *port = 0;
  if (!ai || !ai->ai_addr)
    return "";
  char host[64] = "";
  su_sockaddr_t *su = (su_sockaddr_t *) ai->ai_addr;
  su_inet_ntop(su->su_family, SU_ADDR(su), host, sizeof host);
  *port = ntohs(su->su_port);
  return host;
}

std::string url_text(const url_t *url)
{
  if (!url)
    return "";
  su_home_t home[1] = {SU_HOME_INIT(home)};
  char *text = url_as_string(home, url);
  std::string out = text ? text : "";
  su_home_deinit(home);
  return out;
}

bool sdp_body(const sip_t *sip, std::string *out)
{
  if (!sip->sip_payload || !sip->sip_payload->pl_data || sip->sip_payload->pl_len == 0)
    return false;
  if (sip->sip_content_type && sip->sip_content_type->c_type &&
      g_ascii_strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)
    return false;
  out->assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  return true;
}

/* A free UDP port on @host, for `listen` port 0 (Sofia binds the port itself). */
guint16 free_udp_port(const std::string &host)
{
  GInetAddress *inet = g_inet_address_new_from_string(host.c_str());
  if (!inet)
    return 0;
  GSocket *s = g_socket_new(g_inet_address_get_family(inet), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  GSocketAddress *any = g_inet_socket_address_new(inet, 0);
  guint16 port = 0;
  if (s && g_socket_bind(s, any, FALSE, nullptr)) {
    GSocketAddress *bound = g_socket_get_local_address(s, nullptr);
    if (bound) {
      port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
      g_object_unref(bound);
    }
  }
  g_object_unref(any);
  if (s)
    g_object_unref(s);
  g_object_unref(inet);
  return port;
}

/* Requests nua answers without us that come with a handle of their own (not an INVITE's: a
 * refused INVITE's handle goes at nua_i_state, CANCEL/ACK/BYE/PRACK belong to an INVITE's). */
bool answered_out_of_dialog(nua_event_t event)
{
  switch (event) {
    case nua_i_options: case nua_i_refer: case nua_i_publish: case nua_i_info: case nua_i_update:
    case nua_i_message: case nua_i_chat: case nua_i_subscribe: case nua_i_subscription: case nua_i_notify:
    case nua_i_method: case nua_i_register:
      return true;
    default:
      return false;
  }
}

std::string url_host(const std::string &host)
{
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

/* Builds and starts the call's pipeline in a pooled network context of its own, as the Twilio
 * route does on its media socket's: the elements that ask for one there (rtpnetsrc reading the
 * RTP socket, realtimesink's Realtime session) get that same context, so a caller's packet is read,
 * put in order, depayloaded and sent on to the voice in one wake-up of one thread. The SIP thread
 * waits (a few ms) while the call's Leg is only touched by @prepare. */
bool start_call_pipeline(CallManager &calls, const std::string &call_id, const CallManager::Hook &prepare,
                         std::string *error)
{
  bool started = false;
  net::NetThread::acquire_pooled()->invoke_sync([&]() { started = calls.start_pipeline(call_id, prepare, error); });
  return started;
}

}  // namespace

SipRoute::SipRoute(const RouteContext &context)
    : config_(context.config), route_(context.route), calls_(context.calls), metrics_(context.metrics)
{
}

SipRoute::~SipRoute()
{
  if (!stack_)
    return;
  Stack *stack = stack_.get();
  if (stack->nua) {
    /* nua_shutdown() ends every dialog (BYE / final answers) and reports nua_r_shutdown. */
    stack->thread.invoke([stack]() { nua_shutdown(stack->nua); });
    std::unique_lock<std::mutex> lock(stack->shutdown_lock);
    stack->shutdown_done.wait_for(lock, std::chrono::seconds(5), [stack]() { return stack->shut_down; });
  }
  stack->thread.invoke_sync([stack]() {
    for (auto [nh, leg] : stack->legs) {
      if (leg->answer_timer)
        stack->thread.cancel_timer(leg->answer_timer);
      stack->ports->release(leg->rtp_port);
      if (leg->socket)
        g_object_unref(leg->socket);
      nua_handle_bind(nh, nullptr);
      nua_handle_destroy(nh);
      delete leg;
    }
    stack->legs.clear();
    stack->by_call.clear();
    if (stack->nua)
      nua_destroy(stack->nua);
    stack->nua = nullptr;
  });
  stack->thread.stop();
}

bool SipRoute::install(std::string *error)
{
  auto stack = std::make_unique<Stack>();
  stack->route = this;
  stack->listen_host = route_.sip_listen.host;
  stack->port = route_.sip_listen.port ? route_.sip_listen.port : free_udp_port(stack->listen_host);
  if (!stack->port) {
    *error = "sip: no free UDP port on " + stack->listen_host;
    return false;
  }
  /* What callers can reach: the configured public address, else the listen host (a wildcard is
   * no address: loopback then, as derive_public_url() does for HTTP). */
  stack->public_host = route_.sip_public_address;
  if (stack->public_host.empty()) {
    stack->public_host = stack->listen_host;
    if (stack->public_host == "0.0.0.0")
      stack->public_host = "127.0.0.1";
    else if (stack->public_host == "::")
      stack->public_host = "::1";
  }
  std::string rtp_host = stack->listen_host;
  stack->ports = std::make_unique<sip::RtpPorts>(rtp_host, (guint16) route_.sip_rtp_port_min,
                                                 (guint16) route_.sip_rtp_port_max);
  stack->allow = std::make_unique<sip::AddressAllowlist>(route_.sip_allow);
  stack->auth = std::make_unique<sip::DigestAuth>(route_.sip_realm, route_.sip_users);

  Stack *s = stack.get();
  std::string url = "sip:" + url_host(stack->listen_host) + ":" + std::to_string(stack->port) + ";transport=udp";
  std::string contact = "sip:clawvoice@" + url_host(stack->public_host) + ":" + std::to_string(stack->port);
  stack->contact = "<" + contact + ">";
  bool ok = stack->thread.start([s, url, contact](su_root_t *root, std::string *why) {
    s->nua = nua_create(root, &Stack::on_event, s,
                        NUTAG_URL(url.c_str()),
                        SIPTAG_USER_AGENT_STR("clawvoice/" VERSION),
                        NUTAG_AUTOANSWER(0),
                        NUTAG_AUTOACK(1),
                        NUTAG_ENABLEINVITE(1),
                        NUTAG_MEDIA_ENABLE(0),   /* SDP is ours: gst/sip/sdp_offer_answer */
                        NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS"),
                        NUTAG_M_USERNAME("clawvoice"),
                        /* Session timers (RFC 4028) only when the caller offers them: nua confirms
                         * the caller's interval in the 200 (422 with Min-SE below 90 s), the caller
                         * refreshes unless it cannot (then nua does, by UPDATE, which needs no SDP
                         * of ours), and nua sends BYE when the session expires unrefreshed. None
                         * imposed on callers that do not ask (0). */
                        NUTAG_SUPPORTED("timer"),
                        NUTAG_SESSION_TIMER(0),
                        NUTAG_MIN_SE(90),
                        NUTAG_SESSION_REFRESHER(nua_remote_refresher),
                        NUTAG_UPDATE_REFRESH(1),
                        TAG_END());
    if (!s->nua) {
      *why = "Sofia-SIP could not listen on " + url + " (address in use, or not an address of this host)";
      return false;
    }
    return true;
  }, error);
  if (!ok) {
    *error = "sip: " + *error;
    return false;
  }
  stack_ = std::move(stack);
  log_event(LogLevel::Info, "sip.listening", {{"listen", url_host(s->listen_host) + ":" + std::to_string(s->port)},
      {"port", (long long) s->port}, {"transport", "udp"}, {"contact", contact},
      {"rtp_ports", std::to_string(route_.sip_rtp_port_min) + "-" + std::to_string(route_.sip_rtp_port_max)},
      {"allowlist", (long long) route_.sip_allow.size()}, {"digest_users", (long long) route_.sip_users.size()}});
  return true;
}

std::vector<std::string> SipRoute::banner() const
{
  if (!stack_)
    return {};
  return {"SIP (UDP):       sip:clawvoice@" + url_host(stack_->public_host) + ":" + std::to_string(stack_->port)};
}

void SipRoute::Stack::on_event(nua_event_t event, int status, char const *phrase, nua_t *nua, nua_magic_t *magic,
                               nua_handle_t *nh, nua_hmagic_t *hmagic, sip_t const *sip, tagi_t tags[])
{
  auto *self = static_cast<Stack *>(magic);
  auto *leg = static_cast<Leg *>(hmagic);
  switch (event) {
    case nua_i_invite:
      if (leg)
        self->on_reinvite(leg, sip);
      else
        self->on_invite(nh, nullptr, sip);
      break;
    case nua_i_cancel:
      if (leg) {
        leg->end_reason = "caller cancelled";
        log_event(LogLevel::Info, "sip.cancel", {{"call_id", leg->call_id}});
      }
      break;
    case nua_i_bye:
      if (leg)
        leg->end_reason = leg->outbound ? "callee hung up" : "caller hung up";
      break;
    case nua_r_invite:
      if (leg && leg->outbound)
        self->on_invite_response(leg, status, phrase, sip);
      break;
    case nua_i_ack:
      if (leg)
        log_event(LogLevel::Debug, "sip.ack", {{"call_id", leg->call_id}});
      break;
    case nua_i_state: {
      int state = nua_callstate_init;
      tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
      if (leg && state == nua_callstate_terminated) {
        if (!leg->outbound &&
            (status == 408 || (status >= 400 && !leg->finished && leg->answered && leg->end_reason == "dialog terminated")))
          leg->end_reason = "no ACK for our 200 OK";
        self->forget(leg);
      } else if (!leg && state == nua_callstate_terminated && nh) {
        nua_handle_destroy(nh);   /* a refused INVITE's handle */
      }
      break;
    }
    case nua_r_bye:
      break;
    case nua_r_shutdown:
      if (status >= 200) {
        std::lock_guard<std::mutex> lock(self->shutdown_lock);
        self->shut_down = true;
        self->shutdown_done.notify_all();
      }
      break;
    case nua_i_error:
      log_event(LogLevel::Warning, "sip.error", {{"status", status}, {"phrase", phrase ? phrase : ""}});
      break;
    default:
      /* nua answers OPTIONS (200), and MESSAGE, REFER, … (405) by itself, but the handle it made
       * for each such request is ours to destroy (nua.h on nua_i_options: "if the handle is not
       * bound, you should probably destroy it"): trunks probe with OPTIONS every few seconds. */
      if (!leg && nh && answered_out_of_dialog(event))
        nua_handle_destroy(nh);
      break;
  }
}

void SipRoute::Stack::refuse(nua_handle_t *nh, int status, const char *phrase, const std::string &why,
                             const std::string &peer, const std::string &challenge)
{
  log_event(status == 401 ? LogLevel::Info : LogLevel::Warning, "sip.refused",
      {{"status", status}, {"why", why}, {"peer", peer}});
  route->metrics_.webhook(kRoute, status);
  if (!challenge.empty())
    nua_respond(nh, status, phrase, SIPTAG_WWW_AUTHENTICATE_STR(challenge.c_str()), TAG_END());
  else
    nua_respond(nh, status, phrase, SIPTAG_WARNING_STR(("399 clawvoice \"" + why + "\"").c_str()), TAG_END());
}

void SipRoute::Stack::on_invite(nua_handle_t *nh, Leg *, const sip_t *sip)
{
  guint16 peer_port = 0;
  std::string source = source_of(nua, &peer_port);
  std::string peer = source + ":" + std::to_string(peer_port);
  if (!allow->allows(source)) {
    refuse(nh, SIP_403_FORBIDDEN, "source address not allowed", peer);
    return;
  }
  std::string user;
  if (auth->enabled()) {
    std::string challenge, why;
    switch (auth->check(sip, "INVITE", &user, &challenge, &why)) {
      case sip::DigestAuth::Verdict::Challenge:
        refuse(nh, SIP_401_UNAUTHORIZED, why, peer, challenge);
        return;
      case sip::DigestAuth::Verdict::Rejected:
        refuse(nh, SIP_403_FORBIDDEN, "authentication failed: " + why, peer);
        return;
      case sip::DigestAuth::Verdict::Accepted:
        break;
    }
  }
  std::string offer;
  if (!sdp_body(sip, &offer)) {
    refuse(nh, SIP_488_NOT_ACCEPTABLE, "an INVITE needs an SDP offer (application/sdp)", peer);
    return;
  }
  auto leg = std::make_unique<Leg>();
  leg->nh = nh;
  leg->sip_call_id = sip->sip_call_id && sip->sip_call_id->i_id ? sip->sip_call_id->i_id : "";
  std::string port_error;
  leg->socket = ports->acquire(&leg->rtp_port, &port_error);
  if (!leg->socket) {
    refuse(nh, SIP_503_SERVICE_UNAVAILABLE, port_error, peer);
    return;
  }
  leg->sdp_id = ((guint64) g_random_int() << 16) | g_random_int_range(0, 65536);
  leg->sdp_version = 1;
  clawvoice::sip::LocalMedia local{public_host, leg->rtp_port, leg->sdp_id, leg->sdp_version, false};
  clawvoice::sip::Negotiation negotiation;
  std::string why;
  if (!clawvoice::sip::negotiate_sdp(offer, local, &negotiation, &why)) {
    ports->release(leg->rtp_port);
    g_object_unref(leg->socket);
    if (negotiation.status == 400)
      refuse(nh, 400, "Bad SDP", why, peer);
    else
      refuse(nh, SIP_488_NOT_ACCEPTABLE, why, peer);
    return;
  }
  leg->media = negotiation.media;
  leg->answer = negotiation.answer;

  std::string caller = !user.empty() ? user : url_text(sip->sip_from ? sip->sip_from->a_url : nullptr);
  std::string refusal;
  leg->call_id = route->calls_.create(kRoute, caller, {}, &refusal);
  if (leg->call_id.empty()) {
    ports->release(leg->rtp_port);
    g_object_unref(leg->socket);
    if (refusal == "busy")
      refuse(nh, SIP_486_BUSY_HERE, "busy: the concurrency limit is reached", peer);
    else
      refuse(nh, SIP_503_SERVICE_UNAVAILABLE, refusal, peer);
    return;
  }
  route->metrics_.webhook(kRoute, 200);
  CallManager &calls = route->calls_;
  calls.set_param(leg->call_id, "sip_call_id", leg->sip_call_id);
  calls.set_param(leg->call_id, "to", url_text(sip->sip_to ? sip->sip_to->a_url : nullptr));
  calls.set_param(leg->call_id, "peer", peer);
  calls.set_param(leg->call_id, "codec", clawvoice::sip::codec_name(leg->media.codec));
  calls.set_param(leg->call_id, "rtp_local_port", std::to_string(leg->rtp_port));
  calls.set_param(leg->call_id, "rtp_remote", leg->media.remote_address + ":" + std::to_string(leg->media.remote_port));
  if (!user.empty())
    calls.set_param(leg->call_id, "sip_user", user);

  Leg *l = leg.release();
  nua_handle_bind(nh, l);
  legs[nh] = l;
  by_call[l->call_id] = l;
  if (l->media.on_hold) {
    std::lock_guard<std::mutex> lock(route->lock_);
    route->held_.insert(l->call_id);
  }
  nua_respond(nh, SIP_180_RINGING, SIPTAG_CONTACT_STR(contact.c_str()), TAG_END());
  log_event(LogLevel::Info, "sip.invite", {{"call_id", l->call_id}, {"sip_call_id", l->sip_call_id},
      {"caller", caller}, {"peer", peer}, {"codec", clawvoice::sip::codec_name(l->media.codec)},
      {"telephone_event", (long long) l->media.telephone_event_pt}, {"rtp_port", (long long) l->rtp_port},
      {"rtp_remote", l->media.remote_address + ":" + std::to_string(l->media.remote_port)}});

  /* The pipeline plays (muted) while the phone rings, so the voice session is up when answered. */
  std::string error;
  guint timeout = route->route_.sip_rtp_timeout_seconds;
  bool started = start_call_pipeline(calls, l->call_id, [l, timeout](GstBin *pipeline, std::string *why) {
    return l->elements.prepare(pipeline, l->socket, l->media, timeout, why);
  }, &error);
  if (!started)
    return;   /* the call ended as failed: on_call_ended() sends the final response */
  guint delay = route->route_.sip_answer_delay_ms;
  if (delay == 0) {
    answer(l);
  } else {
    std::string call_id = l->call_id;
    l->answer_timer = thread.add_timer(delay, [this, call_id]() {
      auto it = by_call.find(call_id);
      if (it == by_call.end())
        return;
      it->second->answer_timer = 0;
      answer(it->second);
    });
  }
}

void SipRoute::Stack::answer(Leg *leg)
{
  if (leg->finished || leg->answered)
    return;
  nua_respond(leg->nh, SIP_200_OK, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(leg->answer.c_str()), TAG_END());
  leg->answered = true;
  leg->elements.unmute();
  log_event(LogLevel::Info, "sip.answered", {{"call_id", leg->call_id}});
}

void SipRoute::Stack::on_reinvite(Leg *leg, const sip_t *sip)
{
  std::string offer;
  if (!sdp_body(sip, &offer)) {
    /* No offer: ours again (RFC 3264 §8 lets us repeat the last one). */
    nua_respond(leg->nh, SIP_200_OK, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(leg->answer.c_str()), TAG_END());
    return;
  }
  clawvoice::sip::LocalMedia local{public_host, leg->rtp_port, leg->sdp_id, leg->sdp_version + 1,
                                   leg->media.codec == clawvoice::sip::Codec::PCMA};
  clawvoice::sip::Negotiation negotiation;
  std::string why;
  bool ok = clawvoice::sip::negotiate_sdp(offer, local, &negotiation, &why);
  if (ok && negotiation.media.codec != leg->media.codec) {
    ok = false;
    why = std::string("the call's codec is ") + clawvoice::sip::codec_name(leg->media.codec);
  }
  if (!ok) {
    log_event(LogLevel::Warning, "sip.reinvite_refused", {{"call_id", leg->call_id}, {"why", why}});
    nua_respond(leg->nh, SIP_488_NOT_ACCEPTABLE, SIPTAG_WARNING_STR(("399 clawvoice \"" + why + "\"").c_str()),
                TAG_END());
    return;
  }
  leg->sdp_version++;
  leg->media = negotiation.media;
  leg->answer = negotiation.answer;
  leg->elements.update(leg->media);
  {
    std::lock_guard<std::mutex> lock(route->lock_);
    if (leg->media.on_hold)
      route->held_.insert(leg->call_id);
    else
      route->held_.erase(leg->call_id);
  }
  route->calls_.set_param(leg->call_id, "hold", leg->media.on_hold ? "yes" : "no");
  route->calls_.set_param(leg->call_id, "rtp_remote",
                          leg->media.remote_address + ":" + std::to_string(leg->media.remote_port));
  log_event(LogLevel::Info, "sip.reinvite", {{"call_id", leg->call_id},
      {"direction", clawvoice::sip::direction_name(leg->media.remote_direction)}, {"hold", leg->media.on_hold},
      {"rtp_remote", leg->media.remote_address + ":" + std::to_string(leg->media.remote_port)}});
  nua_respond(leg->nh, SIP_200_OK, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(leg->answer.c_str()), TAG_END());
}

/* The dialog is gone (BYE either way, CANCEL, a final error, no ACK): the call ends if it has not. */
void SipRoute::Stack::forget(Leg *leg)
{
  route->calls_.end(leg->call_id, CallState::Ended, leg->end_reason);
  log_event(LogLevel::Info, "sip.dialog_ended", {{"call_id", leg->call_id}, {"reason", leg->end_reason}});
  if (leg->answer_timer)
    thread.cancel_timer(leg->answer_timer);
  {
    std::lock_guard<std::mutex> lock(route->lock_);
    route->held_.erase(leg->call_id);
  }
  legs.erase(leg->nh);
  by_call.erase(leg->call_id);
  ports->release(leg->rtp_port);
  if (leg->socket)
    g_object_unref(leg->socket);
  nua_handle_bind(leg->nh, nullptr);
  nua_handle_destroy(leg->nh);
  delete leg;
}

/* The launcher ended the call: hang up on the caller. */
void SipRoute::Stack::hang_up(const std::string &call_id, CallState state)
{
  auto it = by_call.find(call_id);
  if (it == by_call.end())
    return;
  Leg *leg = it->second;
  if (leg->finished)
    return;
  leg->finished = true;
  if (leg->answer_timer) {
    thread.cancel_timer(leg->answer_timer);
    leg->answer_timer = 0;
  }
  if (!leg->outbound || leg->answered || state != CallState::Failed)
    leg->end_reason = "ended by the launcher";
  if (leg->answered) {
    log_event(LogLevel::Info, "sip.bye", {{"call_id", call_id}});
    nua_bye(leg->nh, TAG_END());
  } else if (leg->outbound) {
    log_event(LogLevel::Info, "sip.cancel_sent", {{"call_id", call_id}});
    nua_cancel(leg->nh, TAG_END());
  } else if (state == CallState::Failed) {
    nua_respond(leg->nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
  } else {
    nua_respond(leg->nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
  }
}

/* A call we place: an RTP port, our offer, INVITE. The call stays pending until the 200. */
void SipRoute::Stack::invite(const std::string &call_id, const std::string &to)
{
  auto leg = std::make_unique<Leg>();
  leg->outbound = true;
  leg->call_id = call_id;
  std::string port_error;
  leg->socket = ports->acquire(&leg->rtp_port, &port_error);
  if (!leg->socket) {
    route->calls_.end(call_id, CallState::Failed, port_error);
    return;
  }
  leg->sdp_id = ((guint64) g_random_int() << 16) | g_random_int_range(0, 65536);
  leg->sdp_version = 1;
  std::string offer = clawvoice::sip::make_sdp_offer({public_host, leg->rtp_port, leg->sdp_id, leg->sdp_version, false});
  std::string from = "<sip:clawvoice@" + url_host(public_host) + ":" + std::to_string(port) + ">";
  nua_handle_t *nh = nua_handle(nua, leg.get(), SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
  if (!nh) {
    ports->release(leg->rtp_port);
    g_object_unref(leg->socket);
    route->calls_.end(call_id, CallState::Failed, "Sofia-SIP refused the address " + to);
    return;
  }
  Leg *l = leg.release();
  l->nh = nh;
  legs[nh] = l;
  by_call[call_id] = l;
  route->calls_.set_param(call_id, "rtp_local_port", std::to_string(l->rtp_port));
  nua_invite(nh, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
             SIPTAG_PAYLOAD_STR(offer.c_str()), TAG_END());
  log_event(LogLevel::Info, "sip.inviting", {{"call_id", call_id}, {"to", to}, {"rtp_port", (long long) l->rtp_port}});
}

/* The callee's answers to our INVITE (nua sends the ACK for a 2xx itself). */
void SipRoute::Stack::on_invite_response(Leg *leg, int status, const char *phrase, const sip_t *sip)
{
  CallManager &calls = route->calls_;
  if (status < 200) {
    if (status == 180 || status == 183) {
      calls.set_param(leg->call_id, "sip_state", "ringing");
      log_event(LogLevel::Info, "sip.ringing", {{"call_id", leg->call_id}, {"status", status}});
    }
    return;
  }
  if (status >= 300) {
    /* nua ends the dialog (nua_i_state terminated → forget()); the call failed with the answer. */
    leg->finished = true;
    leg->end_reason = "the callee answered " + std::to_string(status) + " " + (phrase ? phrase : "");
    log_event(LogLevel::Warning, "sip.invite_refused", {{"call_id", leg->call_id}, {"status", status},
        {"phrase", phrase ? phrase : ""}});
    calls.end(leg->call_id, CallState::Failed, leg->end_reason);
    return;
  }
  if (leg->answered || leg->finished)
    return;   /* a retransmitted 200: nua has ACKed it again */
  leg->answered = true;   /* the dialog is up: from here on it ends with our BYE */
  std::string answer, why;
  if (!sdp_body(sip, &answer) || !clawvoice::sip::read_sdp_answer(answer, &leg->media, &why)) {
    if (why.empty())
      why = "no SDP answer in the 200";
    log_event(LogLevel::Warning, "sip.bad_answer", {{"call_id", leg->call_id}, {"why", why}});
    calls.end(leg->call_id, CallState::Failed, "the callee's answer: " + why);
    return;
  }
  calls.set_param(leg->call_id, "codec", clawvoice::sip::codec_name(leg->media.codec));
  calls.set_param(leg->call_id, "rtp_remote", leg->media.remote_address + ":" + std::to_string(leg->media.remote_port));
  calls.set_param(leg->call_id, "sip_call_id", sip->sip_call_id && sip->sip_call_id->i_id ? sip->sip_call_id->i_id : "");
  calls.set_param(leg->call_id, "sip_state", "answered");
  if (leg->media.on_hold) {
    std::lock_guard<std::mutex> lock(route->lock_);
    route->held_.insert(leg->call_id);
  }
  log_event(LogLevel::Info, "sip.answered", {{"call_id", leg->call_id}, {"codec", clawvoice::sip::codec_name(leg->media.codec)},
      {"rtp_remote", leg->media.remote_address + ":" + std::to_string(leg->media.remote_port)}});
  std::string error;
  guint timeout = route->route_.sip_rtp_timeout_seconds;
  if (start_call_pipeline(calls, leg->call_id, [leg, timeout](GstBin *pipeline, std::string *why) {
        return leg->elements.prepare(pipeline, leg->socket, leg->media, timeout, why);
      }, &error))
    leg->elements.unmute();
}

bool SipRoute::place_call(const std::string &to, std::string *call_id, guint *status, std::string *error)
{
  if (!stack_) {
    *status = 503;
    *error = "the SIP stack is not running";
    return false;
  }
  /* sip: URIs over UDP, the only transport we listen on (sips: would need TLS). */
  su_home_t home[1] = {SU_HOME_INIT(home)};
  url_t *url = url_make(home, to.c_str());
  bool usable = url && url->url_type == url_sip && url->url_host && *url->url_host;
  su_home_deinit(home);
  if (!usable) {
    *status = 400;
    *error = "\"to\" must be a sip: URI with a host (sip:user@host[:port])";
    return false;
  }
  std::string refusal;
  std::string id = calls_.create(kRoute, to, {{"direction", "outbound"}, {"to", to}}, &refusal);
  if (id.empty()) {
    *status = 503;
    *error = refusal == "busy" ? "busy: the concurrency limit is reached" : refusal;
    return false;
  }
  Stack *stack = stack_.get();
  stack->thread.invoke([stack, id, to]() { stack->invite(id, to); });
  *call_id = id;
  return true;
}

void SipRoute::on_call_ended(const CallSnapshot &call)
{
  if (call.route != kRoute || !stack_)
    return;
  Stack *stack = stack_.get();
  std::string id = call.id;
  CallState state = call.state;
  stack->thread.invoke([stack, id, state]() { stack->hang_up(id, state); });
}

void SipRoute::on_call_message(const std::string &call_id, GstMessage *message)
{
  const GstStructure *s = gst_message_get_structure(message);
  if (!s)
    return;
  if (sip::is_rtp_timeout_message(message)) {
    {
      std::lock_guard<std::mutex> lock(lock_);
      if (held_.count(call_id))
        return;   /* on hold the caller may well send nothing */
    }
    CallSnapshot snap;
    if (!calls_.snapshot(call_id, &snap) || snap.route != kRoute)
      return;
    log_event(LogLevel::Warning, "sip.rtp_timeout", {{"call_id", call_id},
        {"seconds", (long long) route_.sip_rtp_timeout_seconds}});
    calls_.end(call_id, CallState::Ended, "no RTP from the caller for " +
               std::to_string(route_.sip_rtp_timeout_seconds) + " s");
  } else if (gst_structure_has_name(s, "dtmf-event")) {
    /* rtpdtmfdepay posts one per new event (dtmfsrc-style messages carry start=FALSE at the end). */
    gboolean start = TRUE;
    gint number = -1;
    gst_structure_get_boolean(s, "start", &start);
    if (!start || !gst_structure_get_int(s, "number", &number) || number < 0 || number > 15)
      return;
    static const char digits[] = "0123456789*#ABCD";
    std::string digit(1, digits[number]);
    log_event(LogLevel::Info, "call.dtmf", {{"call_id", call_id}, {"digit", digit}, {"method", "rfc4733"}});
    calls_.set_param(call_id, "last_dtmf", digit);
  }
}

}  // namespace clawvoice::launcher
