import AdminModels
import Directory
import Doctor
import Foundation
import Hummingbird
import MailCore
import Outbound

/// `GET /api/v1/domains/NAME/dns-records` and `POST /api/v1/doctor`: what to publish for a
/// domain, and whether what is published is right.
func addSetupRoutes(
    _ api: APIGroup, _ dir: DirectoryService, _ outbound: OutboundAdmin, _ setup: SetupContext, status: (any StatusSource)? = nil
) {
    api.on(API.getDomainDnsRecords) { _, ctx in
        let name = try param(ctx, "name")
        return try await run(ctx) { actor in
            let domain = try dir.domain(name, actor: actor)  // exists, and the actor manages it
            let keys = try outbound.dkim.list(actor: actor).filter { $0.domain == domain.name }
            return PublishedRecords.records(
                domain: domain.name, facts: setup.facts, dkim: keys, mtaSTS: MTASTSMode(rawValue: domain.mtaSts) ?? .testing)
        }
    }
    api.on(API.postDoctor) { req, ctx in
        let body = try await JSONBody.decode(DoctorRequest.self, from: req, context: ctx)
        let actor = try ctx.requireActor()
        let findings = try await runDoctor(dir, outbound, setup, domains: body.domains ?? [], actor: actor)
        // A whole run by a server admin is what `mailroom status` shows as the last doctor.
        if actor.isServerAdmin, body.domains?.isEmpty ?? true { status?.doctorRan(findings) }
        return try JSONBody.response(findings)
    }
}

/// Runs the doctor for `domains` (none: every domain the actor manages), as the actor sees
/// them: a domain admin gets only their domains' findings, not the server's own.
func runDoctor(
    _ dir: DirectoryService, _ outbound: OutboundAdmin, _ setup: SetupContext, domains asked: [String], actor: AdminActor
) async throws -> [DoctorFinding] {
    let (domains, keys) = try await blocking { () throws -> ([DomainView], [DKIMKeyView]) in
        let all = dir.domains(actor: actor)
        let named = try asked.map { try dir.domain($0, actor: actor) }
        return (named.isEmpty ? all : named, try outbound.dkim.list(actor: actor))
    }
    let snapshot = dir.snapshot
    let doctor = Doctor(
        facts: setup.facts, dns: setup.dns,
        receives: { address in (try? EmailAddress(address)).map { snapshot.resolve($0.description, limits: dir.limits).recipients.isEmpty == false } ?? false },
        isOurs: { domain in (try? DomainName(domain)).map(snapshot.isLocal) ?? false })
    var findings = await doctor.run(
        domains: domains.map(\.name), dkim: keys,
        mtaSTS: Dictionary(domains.map { ($0.name, MTASTSMode(rawValue: $0.mtaSts) ?? .testing) }, uniquingKeysWith: { a, _ in a }))
    if !actor.isServerAdmin { findings.removeAll { $0.domain == nil } }
    return findings
}
