/** Who is acting: a user of one tenant, with the roles the rules ask about. */
export interface Actor {
  readonly userId: string;
  readonly tenant: string;
  /** A site admin is an admin of everything in the tenant. */
  readonly siteAdmin: boolean;
  /** Ids of the resources (APIs, apps) this user administers. */
  readonly adminOf: readonly string[];
}
