//! Enumerations of the HRIS model. Open ones pass an unmapped tool value through as the raw
//! string (Kombo's SDKs type them as "listed value or any string"); closed ones hold only
//! their listed values.

use crate::enums::{closed_enum, open_enum};

open_enum!(Gender {
    Male => "MALE",
    Female => "FEMALE",
    NonBinary => "NON_BINARY",
    NotSpecified => "NOT_SPECIFIED",
});

open_enum!(Ethnicity {
    White => "WHITE",
    Asian => "ASIAN",
    HispanicLatino => "HISPANIC_LATINO",
    Hawaiian => "HAWAIIAN",
    NativeAmerican => "NATIVE_AMERICAN",
    BlackAfricanAmerican => "BLACK_AFRICAN_AMERICAN",
    MultipleEthnicities => "MULTIPLE_ETHNICITIES",
    DeclineToSpecify => "DECLINE_TO_SPECIFY",
});

open_enum!(MaritalStatus {
    Single => "SINGLE",
    Married => "MARRIED",
    DomesticPartnership => "DOMESTIC_PARTNERSHIP",
    Widowed => "WIDOWED",
    Divorced => "DIVORCED",
    Separated => "SEPARATED",
    NotMarried => "NOT_MARRIED",
});

open_enum!(
    /// `PENDING`: signed but not started; `LEAVE`: employed but on leave.
    EmploymentStatus {
        Active => "ACTIVE",
        Pending => "PENDING",
        Inactive => "INACTIVE",
        Leave => "LEAVE",
    }
);

open_enum!(
    /// HRIS's own list, longer than the ATS job's [`crate::enums::EmploymentType`].
    EmploymentType {
        FullTime => "FULL_TIME",
        PartTime => "PART_TIME",
        Contract => "CONTRACT",
        Internship => "INTERNSHIP",
        Freelance => "FREELANCE",
        WorkingStudent => "WORKING_STUDENT",
        Apprenticeship => "APPRENTICESHIP",
        Training => "TRAINING",
    }
);

open_enum!(
    /// The interval `pay_rate` covers.
    PayPeriod {
        Hour => "HOUR",
        Day => "DAY",
        Week => "WEEK",
        TwoWeeks => "TWO_WEEKS",
        HalfMonth => "HALF_MONTH",
        Month => "MONTH",
        TwoMonths => "TWO_MONTHS",
        Quarter => "QUARTER",
        HalfYear => "HALF_YEAR",
        Year => "YEAR",
    }
);

open_enum!(
    /// How often the employee is paid.
    PayFrequency {
        Daily => "DAILY",
        Weekly => "WEEKLY",
        Biweekly => "BIWEEKLY",
        Monthly => "MONTHLY",
        Semimonthly => "SEMIMONTHLY",
        Quarterly => "QUARTERLY",
        Semiannually => "SEMIANNUALLY",
        Annually => "ANNUALLY",
        ProRata => "PRO_RATA",
    }
);

open_enum!(AbsenceStatus {
    Requested => "REQUESTED",
    Approved => "APPROVED",
    Declined => "DECLINED",
    Cancelled => "CANCELLED",
    Deleted => "DELETED",
});

closed_enum!(
    /// No raw pass-through: a group the mapping cannot type has `type: null`.
    GroupType {
        Department => "DEPARTMENT",
        Team => "TEAM",
        CostCenter => "COST_CENTER",
    }
);

closed_enum!(
    /// The unit of an absence type, an absence, and a balance's `balance_unit`/`used_unit`.
    TimeUnit {
        Hours => "HOURS",
        Days => "DAYS",
    }
);

/// The name Kombo's docs use on absences and absence types.
pub type AbsenceUnit = TimeUnit;

closed_enum!(DomesticBankRoutingType {
    GbSortCode => "GB_SORT_CODE",
    DeBankleitzahl => "DE_BANKLEITZAHL",
    UsAbaRoutingTransitNumber => "US_ABA_ROUTING_TRANSIT_NUMBER",
    CaRoutingNumber => "CA_ROUTING_NUMBER",
    AuBsbCode => "AU_BSB_CODE",
    FrRib => "FR_RIB",
});

closed_enum!(
    /// `DEFAULT`: a static field of the tool; `CUSTOM`: one its users created.
    IntegrationFieldType {
        Default => "DEFAULT",
        Custom => "CUSTOM",
    }
);
