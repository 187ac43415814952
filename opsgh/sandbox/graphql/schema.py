"""The sandbox's GraphQL schema: a hand-written subset of GitHub's, with the same names and types.

Every type, field, argument and enum value here exists in GitHub's public schema with the same type
(tests/sandbox/test_sandbox_graphql.py checks this against the pinned official schema), so a document
that validates here validates on GitHub. Fields are added as opsgh's documents need them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphql import GraphQLSchema

SDL = '''
schema {
  query: Query
  mutation: Mutation
}

scalar DateTime
scalar GitObjectID
scalar URI

interface Node {
  id: ID!
}

interface Actor {
  avatarUrl(size: Int): URI!
  login: String!
  resourcePath: URI!
  url: URI!
}

type Query {
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  repository(owner: String!, name: String!, followRenames: Boolean): Repository
  viewer: User!
}

type Mutation {
  markPullRequestReadyForReview(input: MarkPullRequestReadyForReviewInput!): MarkPullRequestReadyForReviewPayload
  revertPullRequest(input: RevertPullRequestInput!): RevertPullRequestPayload
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type User implements Actor & Node {
  avatarUrl(size: Int): URI!
  databaseId: Int
  id: ID!
  login: String!
  name: String
  resourcePath: URI!
  url: URI!
}

type Bot implements Actor & Node {
  avatarUrl(size: Int): URI!
  databaseId: Int
  id: ID!
  login: String!
  resourcePath: URI!
  url: URI!
}

type Repository implements Node {
  databaseId: Int
  id: ID!
  isPrivate: Boolean!
  name: String!
  nameWithOwner: String!
  pullRequest(number: Int!): PullRequest
  pullRequests(
    states: [PullRequestState!]
    labels: [String!]
    headRefName: String
    baseRefName: String
    orderBy: IssueOrder
    after: String
    before: String
    first: Int
    last: Int
  ): PullRequestConnection!
  url: URI!
}

input IssueOrder {
  direction: OrderDirection!
  field: IssueOrderField!
}

enum IssueOrderField {
  COMMENTS
  CREATED_AT
  UPDATED_AT
}

enum OrderDirection {
  ASC
  DESC
}

type PullRequestConnection {
  nodes: [PullRequest]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequest implements Node {
  additions: Int!
  author: Actor
  baseRef: Ref
  baseRefName: String!
  baseRefOid: GitObjectID!
  body: String!
  changedFiles: Int!
  closed: Boolean!
  closedAt: DateTime
  commits(after: String, before: String, first: Int, last: Int): PullRequestCommitConnection!
  createdAt: DateTime!
  databaseId: Int
  deletions: Int!
  headRefName: String!
  headRefOid: GitObjectID!
  id: ID!
  isDraft: Boolean!
  labels(after: String, before: String, first: Int, last: Int): LabelConnection
  latestReviews(after: String, before: String, first: Int, last: Int): PullRequestReviewConnection
  mergeCommit: Commit
  mergeStateStatus: MergeStateStatus!
  mergeable: MergeableState!
  merged: Boolean!
  mergedAt: DateTime
  mergedBy: Actor
  number: Int!
  permalink: URI!
  repository: Repository!
  resourcePath: URI!
  reviewDecision: PullRequestReviewDecision
  reviews(
    after: String
    before: String
    first: Int
    last: Int
    states: [PullRequestReviewState!]
    author: String
  ): PullRequestReviewConnection
  state: PullRequestState!
  title: String!
  updatedAt: DateTime!
  url: URI!
}

enum PullRequestState {
  CLOSED
  MERGED
  OPEN
}

enum MergeableState {
  CONFLICTING
  MERGEABLE
  UNKNOWN
}

enum MergeStateStatus {
  BEHIND
  BLOCKED
  CLEAN
  DIRTY
  DRAFT
  HAS_HOOKS
  UNKNOWN
  UNSTABLE
}

enum PullRequestReviewDecision {
  APPROVED
  CHANGES_REQUESTED
  REVIEW_REQUIRED
}

type Label implements Node {
  color: String!
  description: String
  id: ID!
  name: String!
  url: URI!
}

type LabelConnection {
  nodes: [Label]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestReview implements Node {
  author: Actor
  authorAssociation: CommentAuthorAssociation!
  body: String!
  commit: Commit
  createdAt: DateTime!
  databaseId: Int
  id: ID!
  state: PullRequestReviewState!
  submittedAt: DateTime
  url: URI!
}

enum CommentAuthorAssociation {
  COLLABORATOR
  CONTRIBUTOR
  FIRST_TIMER
  FIRST_TIME_CONTRIBUTOR
  MANNEQUIN
  MEMBER
  NONE
  OWNER
}

enum PullRequestReviewState {
  APPROVED
  CHANGES_REQUESTED
  COMMENTED
  DISMISSED
  PENDING
}

type PullRequestReviewConnection {
  nodes: [PullRequestReview]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestCommit implements Node {
  commit: Commit!
  id: ID!
  url: URI!
}

type PullRequestCommitConnection {
  nodes: [PullRequestCommit]
  pageInfo: PageInfo!
  totalCount: Int!
}

type Commit implements Node {
  abbreviatedOid: String!
  authoredDate: DateTime!
  committedDate: DateTime!
  id: ID!
  message: String!
  messageHeadline: String!
  oid: GitObjectID!
  statusCheckRollup: StatusCheckRollup
  url: URI!
}

type StatusCheckRollup implements Node {
  commit: Commit
  contexts(after: String, before: String, first: Int, last: Int): StatusCheckRollupContextConnection!
  id: ID!
  state: StatusState!
}

union StatusCheckRollupContext = CheckRun | StatusContext

type StatusCheckRollupContextConnection {
  checkRunCount: Int!
  nodes: [StatusCheckRollupContext]
  pageInfo: PageInfo!
  statusContextCount: Int!
  totalCount: Int!
}

type CheckRun implements Node {
  completedAt: DateTime
  conclusion: CheckConclusionState
  databaseId: Int
  detailsUrl: URI
  id: ID!
  isRequired(pullRequestId: ID, pullRequestNumber: Int): Boolean!
  name: String!
  startedAt: DateTime
  status: CheckStatusState!
  url: URI!
}

type StatusContext implements Node {
  context: String!
  createdAt: DateTime!
  description: String
  id: ID!
  isRequired(pullRequestId: ID, pullRequestNumber: Int): Boolean!
  state: StatusState!
  targetUrl: URI
}

type Ref implements Node {
  id: ID!
  name: String!
  prefix: String!
  rules(after: String, before: String, first: Int, last: Int): RepositoryRuleConnection
}

type RepositoryRuleConnection {
  nodes: [RepositoryRule]
  pageInfo: PageInfo!
  totalCount: Int!
}

type RepositoryRule implements Node {
  id: ID!
  parameters: RuleParameters
  type: RepositoryRuleType!
}

union RuleParameters = RequiredStatusChecksParameters

type RequiredStatusChecksParameters {
  requiredStatusChecks: [StatusCheckConfiguration!]!
  strictRequiredStatusChecksPolicy: Boolean!
}

type StatusCheckConfiguration {
  context: String!
  integrationId: Int
}

enum RepositoryRuleType {
  CREATION
  UPDATE
  DELETION
  REQUIRED_LINEAR_HISTORY
  MERGE_QUEUE
  REQUIRED_REVIEW_THREAD_RESOLUTION
  REQUIRED_DEPLOYMENTS
  REQUIRED_SIGNATURES
  PULL_REQUEST
  REQUIRED_STATUS_CHECKS
  REQUIRED_WORKFLOW_STATUS_CHECKS
  NON_FAST_FORWARD
  AUTHORIZATION
  TAG
  MERGE_QUEUE_LOCKED_REF
  LOCK_BRANCH
  MAX_REF_UPDATES
  COMMIT_MESSAGE_PATTERN
  COMMIT_AUTHOR_EMAIL_PATTERN
  COMMITTER_EMAIL_PATTERN
  BRANCH_NAME_PATTERN
  TAG_NAME_PATTERN
  FILE_PATH_RESTRICTION
  MAX_FILE_PATH_LENGTH
  FILE_EXTENSION_RESTRICTION
  MAX_FILE_SIZE
  WORKFLOWS
  SECRET_SCANNING
  WORKFLOW_UPDATES
  CODE_SCANNING
}

enum StatusState {
  ERROR
  EXPECTED
  FAILURE
  PENDING
  SUCCESS
}

enum CheckStatusState {
  COMPLETED
  IN_PROGRESS
  PENDING
  QUEUED
  REQUESTED
  WAITING
}

enum CheckConclusionState {
  ACTION_REQUIRED
  CANCELLED
  FAILURE
  NEUTRAL
  SKIPPED
  STALE
  STARTUP_FAILURE
  SUCCESS
  TIMED_OUT
}

input MarkPullRequestReadyForReviewInput {
  clientMutationId: String
  pullRequestId: ID!
}

type MarkPullRequestReadyForReviewPayload {
  clientMutationId: String
  pullRequest: PullRequest
}

input RevertPullRequestInput {
  body: String
  clientMutationId: String
  draft: Boolean
  pullRequestId: ID!
  title: String
}

type RevertPullRequestPayload {
  clientMutationId: String
  pullRequest: PullRequest
  revertPullRequest: PullRequest
}
'''


@cache
def schema() -> GraphQLSchema:
    """The executable schema (built once): the SDL with the resolvers of `resolvers.py` attached."""
    from graphql import build_schema

    from opsgh.sandbox.graphql.resolvers import attach

    built = build_schema(SDL)
    attach(built)
    return built
