import AdminModels
import Delivery
import Directory
import Hummingbird

/// `/api/v1/accounts/:address/sieve…`, `…/vacation` and `…/rules/test`: an account's mail
/// rules. Role checks and audit entries are in the operations (LocalDelivery+SieveAdmin).
func addSieveRoutes(_ api: APIGroup, _ delivery: LocalDelivery) {
    api.on(API.getAccountSieve) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.sieveScripts(address, actor: $0) }
    }
    api.on(API.getAccountSieveScript) { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.sieveScript(address, name: name, actor: $0) }
    }
    api.on(API.postAccountSieveScript) { req, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        let body = try await JSONBody.decode(SievePut.self, from: req, context: ctx)
        return try await run(ctx) {
            try delivery.putSieveScript(address, name: name, script: body.script, activate: body.activate ?? false, actor: $0)
        }
    }
    api.on(API.postAccountSieveScriptActivate) { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.activateSieveScript(address, name: name, actor: $0) }
    }
    api.on(API.postAccountSieveDeactivate) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.deactivateSieve(address, actor: $0) }
    }
    api.on(API.deleteAccountSieveScript) { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.deleteSieveScript(address, name: name, actor: $0) }
    }
    api.on(API.getAccountVacation) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.vacation(address, actor: $0) }
    }
    api.on(API.postAccountVacation) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(VacationSet.self, from: req, context: ctx)
        return try await run(ctx) {
            try delivery.setVacation(
                address, subject: body.subject, message: body.message, days: body.days, from: body.from, until: body.until,
                actor: $0)
        }
    }
    api.on(API.deleteAccountVacation) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.clearVacation(address, actor: $0) }
    }
    api.on(API.getAccountForward) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.forward(address, actor: $0) }
    }
    api.on(API.postAccountForward) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(ForwardSet.self, from: req, context: ctx)
        return try await run(ctx) {
            try delivery.setForward(address, to: body.to, keepCopy: body.keepCopy ?? false, actor: $0)
        }
    }
    api.on(API.deleteAccountForward) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.clearForward(address, actor: $0) }
    }
    api.on(API.postAccountRulesTest) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(RulesTest.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.testRules(address, message: body.message, from: body.from, actor: $0) }
    }
}
