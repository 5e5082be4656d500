//! The slice of Graph's v1.0 schema the emulator needs: which `microsoft.graph.user`
//! properties exist (for `$select` and PATCH), which are returned by default, which are
//! collections and which are read-only.

/// Every structural property of `microsoft.graph.user` in the v1.0 metadata, so `$select`
/// and PATCH can reject names that do not exist, exactly as Graph's OData layer does.
const USER_PROPERTIES: &[&str] = &[
    "aboutMe",
    "accountEnabled",
    "ageGroup",
    "assignedLicenses",
    "assignedPlans",
    "authorizationInfo",
    "birthday",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "creationType",
    "customSecurityAttributes",
    "deletedDateTime",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeLeaveDateTime",
    "employeeOrgData",
    "employeeType",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "faxNumber",
    "givenName",
    "hireDate",
    "id",
    "identities",
    "imAddresses",
    "interests",
    "isManagementRestricted",
    "isResourceAccount",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "licenseAssignmentStates",
    "mail",
    "mailboxSettings",
    "mailNickname",
    "mobilePhone",
    "mySite",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesExtensionAttributes",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "otherMails",
    "passwordPolicies",
    "passwordProfile",
    "pastProjects",
    "postalCode",
    "preferredDataLocation",
    "preferredLanguage",
    "preferredName",
    "provisionedPlans",
    "proxyAddresses",
    "responsibilities",
    "schools",
    "securityIdentifier",
    "serviceProvisioningErrors",
    "showInAddressList",
    "signInActivity",
    "signInSessionsValidFromDateTime",
    "skills",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// The properties Graph returns for a user when no `$select` is given (user-get.md), in
/// the order Graph emits them.
pub(super) const USER_DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Collection-valued properties: Graph renders an absent collection as `[]`, never `null`.
const USER_COLLECTIONS: &[&str] = &[
    "assignedLicenses",
    "assignedPlans",
    "businessPhones",
    "identities",
    "imAddresses",
    "interests",
    "licenseAssignmentStates",
    "onPremisesProvisioningErrors",
    "otherMails",
    "pastProjects",
    "provisionedPlans",
    "proxyAddresses",
    "responsibilities",
    "schools",
    "serviceProvisioningErrors",
    "skills",
];

/// Properties the directory computes itself; a PATCH naming one is refused.
const USER_READ_ONLY: &[&str] = &[
    "assignedPlans",
    "createdDateTime",
    "creationType",
    "deletedDateTime",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "id",
    "imAddresses",
    "isManagementRestricted",
    "lastPasswordChangeDateTime",
    "licenseAssignmentStates",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "provisionedPlans",
    "proxyAddresses",
    "securityIdentifier",
    "serviceProvisioningErrors",
    "signInActivity",
];

/// Properties that `$select` accepts on `transitiveMemberOf` items (directoryObject plus
/// the group and directoryRole properties the emulator models).
const MEMBERSHIP_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "displayName",
    "description",
    "roleTemplateId",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "securityEnabled",
];

/// The `microsoft.graph.group` properties the emulator models, as `sponsors` and
/// `transitiveMembers` render a group.
const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "description",
    "displayName",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "securityEnabled",
];

/// `$select=*`: every property. Microsoft's own Entra PowerShell sends it to `/sponsors`
/// (Get-EntraUserSponsor), so the directoryObject collections accept it.
pub(super) const SELECT_ALL: &str = "*";

/// The canonical spelling of a user property, matched case-insensitively as Graph does.
pub(super) fn user_property(name: &str) -> Option<&'static str> {
    canonical(USER_PROPERTIES, name)
}

/// The canonical spelling of a property selectable on `transitiveMemberOf` items.
pub(super) fn membership_property(name: &str) -> Option<&'static str> {
    canonical(MEMBERSHIP_PROPERTIES, name)
}

/// A property `$select` accepts on a mixed directoryObject collection: Graph takes the
/// properties of any derived type there (permissions-overview, limited-information example).
pub(super) fn directory_object_property(name: &str) -> Option<&'static str> {
    user_cast_property(name).or_else(|| group_cast_property(name))
}

/// A property `$select` accepts after the `microsoft.graph.user` cast.
pub(super) fn user_cast_property(name: &str) -> Option<&'static str> {
    canonical(&[SELECT_ALL], name).or_else(|| user_property(name))
}

/// A property `$select` accepts after the `microsoft.graph.group` cast.
pub(super) fn group_cast_property(name: &str) -> Option<&'static str> {
    canonical(&[SELECT_ALL], name).or_else(|| canonical(GROUP_PROPERTIES, name))
}

pub(super) fn is_user_collection(name: &str) -> bool {
    USER_COLLECTIONS.contains(&name)
}

pub(super) fn is_user_read_only(name: &str) -> bool {
    USER_READ_ONLY.contains(&name)
}

fn canonical(list: &[&'static str], name: &str) -> Option<&'static str> {
    list.iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(name))
}
