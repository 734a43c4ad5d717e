// INFORMATIONAL exchanges, both roles.
#include "ike/informational_task.hpp"

#include "ike/child_negotiation.hpp"
#include "ike/ike_rekey_task.hpp"
#include "ike/ike_sa.hpp"

namespace ipsecgw::ike {

bool ChildDeleteTask::ready(IkeSa& sa) { return sa.child_by_spi_in(spi_in_) != nullptr; }

std::vector<Payload> ChildDeleteTask::build_request(IkeSa& sa, TimePoint) {
    if (ChildSa* c = sa.child_by_spi_in(spi_in_)) c->state = ChildSa::State::Deleting;
    return {{PayloadType::Delete, DeletePayload{ProtocolId::Esp, 4, {spi_bytes(spi_in_)}}}};
}

TaskStatus ChildDeleteTask::on_response(IkeSa& sa, const Message&, ByteView, TimePoint) {
    // The peer answers with its inbound SPI of the pair, or nothing if it
    // deleted the pair itself meanwhile; either way the pair is gone.
    sa.remove_child(spi_in_);
    return TaskStatus::Done;
}

std::vector<Payload> IkeDeleteTask::build_request(IkeSa& sa, TimePoint) {
    if (sa.state == IkeSa::State::Established) sa.state = IkeSa::State::Deleting;
    return {{PayloadType::Delete, DeletePayload{ProtocolId::Ike, 0, {}}}};
}

TaskStatus IkeDeleteTask::on_response(IkeSa& sa, const Message&, ByteView, TimePoint) {
    sa.terminate("deleted", false);
    return TaskStatus::Done;
}

std::vector<Payload> LivenessTask::build_request(IkeSa&, TimePoint) { return {}; }

TaskStatus LivenessTask::on_response(IkeSa&, const Message&, ByteView, TimePoint) { return TaskStatus::Done; }

Reply respond_informational(IkeSa& sa, const Message& m, TimePoint now) {
    Reply r;
    DeletePayload ours{ProtocolId::Esp, 4, {}};
    for (const auto& p : m.payloads) {
        auto* d = std::get_if<DeletePayload>(&p.body);
        if (!d) continue;
        if (d->protocol == ProtocolId::Ike) {
            // §1.4.1: answer with an empty INFORMATIONAL, then forget the SA.
            // §2.25.2: a delete of an SA we are rekeying wins over our
            // rekey; if the peer's own rekey of it had completed (§2.8.2
            // collision), that new SA inherits everything first.
            r.payloads.clear();
            r.after_send = [&sa, now] {
                IkeRekeyTask::settle_for_peer_rekey(sa, now);
                sa.terminate("deleted by peer", false);
            };
            return r;
        }
        if (d->protocol != ProtocolId::Esp) continue;
        for (const auto& spi : d->spis) {
            // The peer names its inbound SPI, which is our outbound one.
            ChildSa* c = sa.child_by_spi_out(spi_value(spi));
            if (!c) continue;
            ours.spis.push_back(spi_bytes(c->spi_in));
            sa.remove_child(c->spi_in);
        }
    }
    if (!ours.spis.empty()) r.payloads.push_back({PayloadType::Delete, ours});
    return r;
}

}  // namespace ipsecgw::ike
